"""A ``multipart/form-data`` body split into its text fields and files.

Enough of RFC 7578 for what OpenAI's SDKs and curl send to
``/v1/audio/transcriptions``: each part has a ``Content-Disposition`` naming
the field (and ``filename`` for a file); the body is already in memory.
"""

from __future__ import annotations

import re
from typing import Final

from chatgrid.simulator import errors

_NAME_RE: Final = re.compile(rb'\bname="([^"]*)"')
_FILENAME_RE: Final = re.compile(rb'\bfilename="([^"]*)"')


class FormFile:
    __slots__ = ("content", "filename")

    def __init__(self, filename: str, content: bytes) -> None:
        self.filename = filename
        self.content = content

    def describe(self) -> dict[str, object]:
        """What a record shows instead of the bytes."""
        return {"filename": self.filename, "bytes": len(self.content)}


def parse_form(body: bytes, boundary: bytes) -> tuple[dict[str, str], dict[str, FormFile]]:
    fields: dict[str, str] = {}
    files: dict[str, FormFile] = {}
    delimiter = b"--" + boundary
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise errors.invalid_request("Could not parse multipart form")
        content = content.removesuffix(b"\r\n")
        name = _NAME_RE.search(head)
        if name is None:
            continue
        key = name.group(1).decode("utf-8", "replace")
        filename = _FILENAME_RE.search(head)
        if filename is not None:
            files[key] = FormFile(filename.group(1).decode("utf-8", "replace"), content)
        else:
            fields[key] = content.decode("utf-8", "replace")
    return fields, files
