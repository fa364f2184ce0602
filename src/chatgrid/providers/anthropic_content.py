"""OpenAI content parts → Anthropic content blocks (pure), for ``anthropic_translate``.

Text parts keep a ``cache_control`` a client put on them (Anthropic's prompt
caching is opt-in per block). Images come as ``image_url`` parts: a ``data:``
URL becomes a base64 source with its media type, an http(s) URL a URL source
that Anthropic fetches itself. A ``file`` part with inline PDF data becomes a
``document`` block. Empty text is left out: Anthropic refuses empty blocks.
"""

from __future__ import annotations

from typing import Any, Final

from chatgrid.errors import InvalidRequest

IMAGE_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
UNSUPPORTED: Final = "unsupported_parameter"


def unsupported(message: str, param: str) -> InvalidRequest:
    """The 400 for what OpenAI's API allows and Claude's does not."""
    return InvalidRequest(
        f"{message} (not supported for Claude models)", param=param, code=UNSUPPORTED
    )


def _text_block(part: dict[str, Any], text: Any, where: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise InvalidRequest(f"{where}.text must be a string", param=where)
    block = {"type": "text", "text": text}
    cache_control = part.get("cache_control")
    if cache_control is not None:
        block["cache_control"] = cache_control
    return block


def text_blocks(content: Any, index: int) -> list[dict[str, Any]]:
    """Text-only content (system, developer, tool results): a string or text parts."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise InvalidRequest(
            f"messages[{index}].content must be a string or an array of text parts",
            param=f"messages[{index}].content",
        )
    blocks = []
    for number, part in enumerate(content):
        where = f"messages[{index}].content[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" or kind == "refusal":
            text = part.get(kind)
            if text:
                blocks.append(_text_block(part, text, where))
        else:
            raise InvalidRequest(f"{where} must be a text part", param=where)
    return blocks


def user_blocks(content: Any, index: int) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise InvalidRequest(
            f"messages[{index}].content must be a string or an array of parts",
            param=f"messages[{index}].content",
        )
    blocks = []
    for number, part in enumerate(content):
        where = f"messages[{index}].content[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append(_text_block(part, part["text"], where))
        elif kind == "image_url":
            blocks.append(_image_block(part, where))
        elif kind == "file":
            blocks.append(_document_block(part, where))
        else:
            raise unsupported(f"{where} has type {kind!r}", where)
    return blocks


def _data_url(url: str, where: str) -> tuple[str, str]:
    """Media type and base64 payload of a ``data:...;base64,...`` URL."""
    header, comma, payload = url.partition(",")
    media_type, _, encoding = header[5:].partition(";")
    if not comma or encoding != "base64" or not payload:
        raise InvalidRequest(f"{where} must be a base64 data: URL", param=where)
    return media_type, payload


def _image_block(part: dict[str, Any], where: str) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise InvalidRequest(f"{where}.image_url.url must be a string", param=where)
    if url.startswith("data:"):
        media_type, payload = _data_url(url, where)
        if media_type not in IMAGE_MEDIA_TYPES:
            raise unsupported(
                f"{where} is {media_type or 'untyped'}; send JPEG, PNG, GIF or WebP", where
            )
        source = {"type": "base64", "media_type": media_type, "data": payload}
    elif url.startswith(("https://", "http://")):
        source = {"type": "url", "url": url}
    else:
        raise InvalidRequest(f"{where}.image_url.url must be an http(s) or data: URL", param=where)
    return {"type": "image", "source": source}


def _document_block(part: dict[str, Any], where: str) -> dict[str, Any]:
    file = part.get("file")
    data = file.get("file_data") if isinstance(file, dict) else None
    if not isinstance(data, str) or not data.startswith("data:"):
        raise unsupported(f"{where}: only files sent inline as file_data can be used", where)
    media_type, payload = _data_url(data, where)
    if media_type != "application/pdf":
        raise unsupported(f"{where} is {media_type or 'untyped'}; send a PDF", where)
    source = {"type": "base64", "media_type": media_type, "data": payload}
    return {"type": "document", "source": source}
