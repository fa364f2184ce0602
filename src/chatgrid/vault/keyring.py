"""The master keyring: versioned 256-bit keys, the highest version current.

Old versions stay in the ring so data keys wrapped under them still open
while ``vault rotate-master`` rewraps them; a version can be dropped once
nothing references it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from chatgrid.settings import Settings

KEY_FILE_NAME = "master.key"


class KeyringError(Exception):
    """The master key is missing, malformed or lacks a needed version."""


@dataclass(frozen=True)
class MasterKeyring:
    keys: dict[int, bytes]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the master keyring is empty")
        for version, key in self.keys.items():
            if version < 1 or len(key) != 32:
                raise KeyringError(f"master key version {version} is not a 256-bit key")

    @property
    def current_version(self) -> int:
        return max(self.keys)

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise KeyringError(f"master key version {version} is not in the keyring") from None

    def with_new_version(self) -> MasterKeyring:
        return MasterKeyring({**self.keys, self.current_version + 1: secrets.token_bytes(32)})

    def without_versions_below(self, version: int) -> MasterKeyring:
        return MasterKeyring({v: k for v, k in self.keys.items() if v >= version})

    @classmethod
    def parse(cls, text: str) -> MasterKeyring:
        """Read ``VERSION:BASE64`` entries separated by commas (the env var form)."""
        keys: dict[int, bytes] = {}
        for entry in filter(None, (part.strip() for part in text.split(","))):
            version_text, sep, encoded = entry.partition(":")
            if not sep or not version_text.isdigit():
                raise KeyringError("CHATGRID_MASTER_KEY entries look like 1:BASE64KEY")
            try:
                keys[int(version_text)] = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise KeyringError("a CHATGRID_MASTER_KEY entry is not valid base64") from None
        return cls(keys)

    def to_json(self) -> str:
        return json.dumps(
            {"keys": {str(v): base64.b64encode(k).decode() for v, k in sorted(self.keys.items())}}
        )

    @classmethod
    def from_json(cls, text: str) -> MasterKeyring:
        try:
            raw = json.loads(text)["keys"]
            return cls({int(v): base64.b64decode(k, validate=True) for v, k in raw.items()})
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise KeyringError("the master key file is not readable") from None


def _key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the first byte (no window where it is readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_keyring(settings: Settings) -> MasterKeyring:
    """The keyring from CHATGRID_MASTER_KEY, else from the key file, created once."""
    if settings.master_key is not None:
        return MasterKeyring.parse(settings.master_key.get_secret_value())
    path = _key_file(settings)
    if not path.exists():
        fresh = MasterKeyring({1: secrets.token_bytes(32)})
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(fresh.to_json())
                handle.flush()
                os.fsync(handle.fileno())
    return MasterKeyring.from_json(path.read_text())


def rotate_keyring_file(settings: Settings) -> MasterKeyring:
    """Add a new current version to the key file and return the new ring."""
    if settings.master_key is not None:
        raise KeyringError(
            "the master key comes from CHATGRID_MASTER_KEY: add a new VERSION:KEY entry "
            "there, restart, then run rotate-master to rewrap under it"
        )
    ring = load_keyring(settings).with_new_version()
    _write_private(_key_file(settings), ring.to_json())
    return ring


def save_keyring_file(settings: Settings, ring: MasterKeyring) -> None:
    if settings.master_key is None:
        _write_private(_key_file(settings), ring.to_json())
