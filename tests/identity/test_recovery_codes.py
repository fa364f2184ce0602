"""Recovery codes: shape, what typing variations are accepted, and hashes bound to an account."""

from __future__ import annotations

import re

from chatgrid.identity import recovery_codes


def test_ten_distinct_codes_of_80_random_bits() -> None:
    codes = recovery_codes.new_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", code), code


def test_case_hyphens_and_spaces_do_not_matter() -> None:
    code = recovery_codes.new_codes(1)[0]
    variants = [code, code.upper(), code.replace("-", ""), code.replace("-", " "), f" {code} "]
    hashes = {recovery_codes.code_hash("usr_1", v) for v in variants}
    assert len(hashes) == 1 and None not in hashes


def test_text_that_is_not_a_code_has_no_hash() -> None:
    for typed in ("", "123456", "abcd-efgh-ijkl", "abcd-efgh-ijkl-mno0", "abcd-efgh-ijkl-mnop-q"):
        assert recovery_codes.code_hash("usr_1", typed) is None
        assert not recovery_codes.looks_like_a_recovery_code(typed)


def test_a_hash_belongs_to_one_account() -> None:
    code = recovery_codes.new_codes(1)[0]
    mine = recovery_codes.code_hash("usr_1", code)
    assert mine != recovery_codes.code_hash("usr_2", code)
    assert mine is not None and code.replace("-", "") not in mine
