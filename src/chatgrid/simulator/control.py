"""The control API under ``/_sim``: how tests steer and inspect the simulator.

No authentication, on purpose: it is a local test tool, and tests must be
able to revoke a key or read the records without holding one.

======  ===========================  ==============================================
GET     /_sim/health                 ``{"status": "ok"}``
GET     /_sim/requests               ``{"data": [record, ...]}`` in arrival order
DELETE  /_sim/requests               forget the records
POST    /_sim/faults                 ``{"status", "count"?, "retry_after"?}``
GET     /_sim/faults                 the pending scheduled faults
DELETE  /_sim/faults                 drop the pending scheduled faults
POST    /_sim/keys/revoke            ``{"key"}``: 401 for that key from now on
POST    /_sim/keys/models            ``{"key", "withhold"?, "release"?}``: models it sees
POST    /_sim/azure/deployments      ``{"deployment", "model"}``
GET     /_sim/azure/deployments      the registered deployments
POST    /_sim/reset                  all of the above back to empty
======  ===========================  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import orjson

from chatgrid.simulator import errors, faults
from chatgrid.simulator.catalogue import MODEL_IDS
from chatgrid.simulator.state import SimulatorState
from chatgrid.simulator.wire import (
    JSON_TYPE,
    Receive,
    Scope,
    Send,
    new_request_id,
    read_body,
    send_bytes,
)

Handler = Callable[[SimulatorState, object], object]

_OK: Final = {"status": "ok"}


def _health(state: SimulatorState, body: object) -> object:
    return _OK


def _list_records(state: SimulatorState, body: object) -> object:
    # Already serialised: the records render themselves straight to bytes.
    return state.records.render()


def _clear_records(state: SimulatorState, body: object) -> object:
    state.records.clear()
    return _OK


def _schedule_fault(state: SimulatorState, body: object) -> object:
    status, count, retry_after = faults.parse_schedule(body)
    state.faults.schedule(status, count, retry_after)
    return {"pending": state.faults.pending()}


def _pending_faults(state: SimulatorState, body: object) -> object:
    return {"pending": state.faults.pending()}


def _clear_faults(state: SimulatorState, body: object) -> object:
    state.faults.clear()
    return {"pending": []}


def _revoke_key(state: SimulatorState, body: object) -> object:
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        raise errors.missing_parameter("key")
    state.revoked_keys.add(key)
    return {"revoked": True}


def _key_models(state: SimulatorState, body: object) -> object:
    return state.key_models.change(body)


def _register_deployment(state: SimulatorState, body: object) -> object:
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    name = body.get("deployment")
    model = body.get("model")
    if not isinstance(name, str) or not name or "/" in name:
        raise errors.invalid_request("'deployment' must be a name without '/'.", "deployment")
    if not isinstance(model, str) or model not in MODEL_IDS:
        raise errors.invalid_request("'model' must be a catalogue model.", "model")
    state.deployments.register(name, model)
    return {"deployment": name, "model": model}


def _list_deployments(state: SimulatorState, body: object) -> object:
    return {"data": state.deployments.registered()}


def _reset(state: SimulatorState, body: object) -> object:
    state.reset()
    return _OK


_ROUTES: Final[dict[str, dict[str, Handler]]] = {
    "/_sim/health": {"GET": _health},
    "/_sim/requests": {"GET": _list_records, "DELETE": _clear_records},
    "/_sim/faults": {"POST": _schedule_fault, "GET": _pending_faults, "DELETE": _clear_faults},
    "/_sim/keys/revoke": {"POST": _revoke_key},
    "/_sim/keys/models": {"POST": _key_models},
    "/_sim/azure/deployments": {"POST": _register_deployment, "GET": _list_deployments},
    "/_sim/reset": {"POST": _reset},
}


async def handle_control(state: SimulatorState, scope: Scope, receive: Receive, send: Send) -> None:
    path: str = scope["path"]
    method: str = scope["method"]
    request_id = (b"x-request-id", new_request_id().encode())
    try:
        methods = _ROUTES.get(path)
        if methods is None:
            raise errors.unknown_url(method, path)
        handler = methods.get(method)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            raise errors.method_not_allowed(method, path, allowed)
        body = await _json_body(receive) if method == "POST" else None
        result = handler(state, body)
        payload = result if isinstance(result, bytes) else orjson.dumps(result)
        await send_bytes(send, 200, payload, [JSON_TYPE, request_id])
    except errors.ApiError as error:
        headers = [JSON_TYPE, request_id, *error.headers]
        await send_bytes(send, error.status, error.body(), headers)


async def _json_body(receive: Receive) -> object:
    raw = await read_body(receive, None)
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise errors.unparsable_json() from None
