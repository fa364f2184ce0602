"""Password policy and hashing: NIST-style length rules, the common-password list, argon2id."""

from __future__ import annotations

import pytest

from chatgrid.identity.passwords import (
    MAX_PASSWORD_LENGTH,
    WeakPassword,
    check_password_policy,
    common_passwords,
    hash_password,
    needs_rehash,
    verify_password,
)
from tests.support.passwords import PRODUCTION_HASHER, hashing_with


def test_the_shipped_list_holds_thousands_of_real_common_passwords() -> None:
    words = common_passwords()
    assert len(words) > 8000
    assert {"password", "12345678", "iloveyou", "qwertyuiop", "football"} <= words
    assert all(len(w) >= 8 and w == w.lower() for w in words)


@pytest.mark.parametrize("password", ["password", "PASSWORD", "Password1", "12345678", "iloveyou"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    with pytest.raises(WeakPassword, match="most commonly used"):
        check_password_policy(password)


@pytest.mark.parametrize("password", ["", "short", "seven77"])
def test_passwords_under_eight_characters_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword, match="at least 8"):
        check_password_policy(password)


def test_long_passphrases_are_welcome_up_to_the_maximum() -> None:
    check_password_policy("tr0ub4dor & horses")
    check_password_policy("w" * 64 + "ords and more words")
    check_password_policy("x7" * (MAX_PASSWORD_LENGTH // 2))
    with pytest.raises(WeakPassword, match="at most"):
        check_password_policy("x" * (MAX_PASSWORD_LENGTH + 1))


def test_no_composition_rules_and_unicode_counts_as_characters() -> None:
    check_password_policy("all lowercase words here")
    check_password_policy("пароль-для-входа")
    check_password_policy("😀😀😀😀😀😀😀😀")


def test_the_email_address_is_not_a_password() -> None:
    with pytest.raises(WeakPassword, match="email"):
        check_password_policy("alice@example.com", email="Alice@Example.com")
    with pytest.raises(WeakPassword, match="email"):
        check_password_policy("alice.smith", email="alice.smith@example.com")


def test_hashes_are_argon2id_salted_and_verified() -> None:
    with hashing_with(PRODUCTION_HASHER):
        _hashes_are_argon2id_salted_and_verified()
    assert PRODUCTION_HASHER.memory_cost == 65536 and PRODUCTION_HASHER.time_cost == 3


def _hashes_are_argon2id_salted_and_verified() -> None:
    first = hash_password("correct horse battery")
    second = hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert "correct horse" not in first
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")
    assert not verify_password("not a hash", "anything")
    assert not needs_rehash(first)


def test_the_same_characters_typed_differently_verify() -> None:
    composed = "caf\u00e9 au lait!"
    decomposed = "cafe\u0301 au lait!"
    assert verify_password(hash_password(composed), decomposed)
