"""Cheap password hashes for the test process, and the production hasher to test itself.

Production hashes with argon2id over 64 MiB, 3 passes (about 0.2 s each, on
purpose). The console's fixtures make and sign in four people per test, and
some 300 tests a pass build them: at production cost that is about ten
minutes of CI spent hashing. The test process therefore hashes with 1 pass
over 1 MiB: the same argon2id code path, a weaker cost. A hash names its own
parameters, so anything (a ``chatgrid serve`` process included) verifies it
as usual, and a server still hashes at full cost (and upgrades these hashes
at sign-in, as it would any weak one). ``tests/identity/test_passwords.py``
checks the production parameters with ``PRODUCTION_HASHER``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher

from chatgrid.identity import passwords

#: What ``passwords`` hashes with outside the tests.
PRODUCTION_HASHER = passwords._hasher()
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@contextmanager
def hashing_with(hasher: PasswordHasher) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", lambda: hasher)
        passwords._dummy_hash.cache_clear()  # the decoy hash follows the hasher in use
        try:
            yield
        finally:
            passwords._dummy_hash.cache_clear()
