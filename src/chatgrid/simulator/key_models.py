"""Models a key cannot see yet: how tests make a provider add a model after connect.

A test withholds catalogue models from one key (``POST /_sim/keys/models``
with ``{"key", "withhold": [...]}``) and later releases them (``"release"``).
While withheld, the key's ``GET /v1/models`` leaves them out and any call
naming them is answered 404 ``model_not_found``, as OpenAI answers a model
an account cannot use. Other keys see the whole catalogue.
"""

from __future__ import annotations

import orjson

from chatgrid.simulator import errors, routes
from chatgrid.simulator.catalogue import LIST_BODY


class KeyModels:
    def __init__(self) -> None:
        self._withheld: dict[str, set[str]] = {}

    def hidden(self, key: str | None) -> set[str] | None:
        """The models withheld from ``key`` (None: none, the common case)."""
        if not self._withheld or key is None:
            return None
        return self._withheld.get(key)

    def change(self, body: object) -> dict[str, object]:
        """Apply a control request: ``{"key", "withhold"?: [...], "release"?: [...]}``."""
        if not isinstance(body, dict):
            raise errors.invalid_type("body", "an object", body)
        key = body.get("key")
        if not isinstance(key, str) or not key:
            raise errors.missing_parameter("key")
        hidden = self._withheld.setdefault(key, set())
        hidden |= _names(body, "withhold")
        hidden -= _names(body, "release")
        if not hidden:
            del self._withheld[key]
        return {"key": key, "withheld": sorted(hidden)}

    def clear(self) -> None:
        self._withheld.clear()


def _names(body: dict[str, object], field: str) -> set[str]:
    names = body.get(field, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise errors.invalid_type(field, "an array of model ids", names)
    return set(names)


def withheld_answer(route: routes.Route, body: object, hidden: set[str]) -> bytes | None:
    """The key's model list without ``hidden``; raises 404 for a call naming one of them.

    None: the request does not touch a withheld model and is served as usual.
    """
    if route.operation == routes.MODELS:
        listing = orjson.loads(LIST_BODY)
        listing["data"] = [m for m in listing["data"] if m["id"] not in hidden]
        return orjson.dumps(listing)
    model = body.get("model") if isinstance(body, dict) else route.target
    if isinstance(model, str) and model in hidden:
        raise errors.model_not_found(model)
    return None
