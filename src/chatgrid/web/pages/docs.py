"""``/docs``: the admin API's reference, rendered from its OpenAPI document (no CDN, no JS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.web.deps import Console, OptionalViewer
from chatgrid.web.pages.common import render

router = APIRouter()

_METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items'))}"
    return str(schema.get("type", ""))


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each API operation as plain rows for the template."""
    result = []
    for path, item in spec.get("paths", {}).items():
        for method in _METHOD_ORDER:
            op = item.get(method)
            if op is None:
                continue
            body = (
                op.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            responses = []
            for status, answer in op.get("responses", {}).items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                responses.append((status, answer.get("description", ""), _schema_name(schema)))
            result.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or ["other"])[0],
                    "parameters": [
                        (p["name"], p["in"], p.get("required", False))
                        for p in op.get("parameters", [])
                    ],
                    "body": _schema_name(body),
                    "responses": responses,
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                }
            )
    return result


def schemas(spec: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, bool, str]]]]:
    """Each schema's fields: name, type, required, description."""
    result = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = []
        for field, prop in schema.get("properties", {}).items():
            kind = _schema_name(prop)
            if not kind and "anyOf" in prop:
                kind = " or ".join(_schema_name(p) for p in prop["anyOf"])
            fields.append((field, kind, field in required, prop.get("description", "")))
        result.append((name, fields))
    return result


@router.get("/docs")
def api_docs(request: Request, state: Console, viewer: OptionalViewer) -> Response:
    spec = request.app.openapi()
    return render(
        request,
        state,
        "api_docs.html",
        viewer=viewer,
        section="docs",
        info=spec.get("info", {}),
        operations=operations(spec),
        schemas=schemas(spec),
    )
