"""The org admin console: server-rendered pages over a JSON admin API (FastAPI).

``create_web_app(context)`` builds the app; ``ChatGridApp`` creates it at
start-up and sends it every request that is not ``/v1`` or a health check.
"""

from chatgrid.web.app import create_web_app

__all__ = ["create_web_app"]
