"""The browser fixture works against a real server."""

from playwright.sync_api import Page

from tests.support.deployment import Deployment


def test_the_browser_reaches_a_running_server(page: Page, deployment: Deployment) -> None:
    response = page.goto(f"{deployment.instance.base_url}/healthz")
    assert response is not None and response.status == 200
    assert '"ok"' in page.content()
