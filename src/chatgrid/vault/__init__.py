"""Envelope encryption of upstream keys under a rotatable master key."""

from chatgrid.vault.envelope import SealedSecret, SecretUnreadable, Vault, fingerprint_of
from chatgrid.vault.keyring import MasterKeyring, load_keyring, rotate_keyring_file

__all__ = [
    "MasterKeyring",
    "SealedSecret",
    "SecretUnreadable",
    "Vault",
    "fingerprint_of",
    "load_keyring",
    "rotate_keyring_file",
]
