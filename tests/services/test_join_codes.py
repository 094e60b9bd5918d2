"""Join codes: new ones in Crockford's base 32 (nothing on a poster to misread), at least 64 random bits;
a code typed loosely finds its team, and codes made before keep working exactly."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from pulse.services import structure
from tests.factories import make_org


def test_new_codes_use_crockford_base_32_with_at_least_64_bits() -> None:
    codes = {structure.new_join_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == structure.JOIN_CODE_LENGTH and set(c) <= set(structure.CROCKFORD) for c in codes)
    assert not set("ILOU") & set("".join(codes)), "no I, L, O or U to misread"
    assert structure.JOIN_CODE_LENGTH * math.log2(len(structure.CROCKFORD)) >= 64
    used = set("".join(codes))
    assert used == set(structure.CROCKFORD), "every symbol turns up: the bits are spread over all of them"


def test_a_code_typed_loosely_normalises() -> None:
    assert structure.normalise_join_code("abcd-efgh 1jkm0") == "ABCDEFGH1JKM0"
    assert structure.normalise_join_code("O1lI") == "0111", "O is 0, and l and I are 1"
    assert structure.normalise_join_code("xyz_1") is None, "an underscore: never a Crockford code"
    assert structure.normalise_join_code("") is None


def test_teams_are_found_by_a_loose_code_and_old_codes_keep_working(session: Session) -> None:
    org = make_org(session)
    new, old = org.teams
    new.join_code = "7QF0KX1NB3WEA"
    old.join_code = "1Wrd2iQkHOnVebSD"  # from before: mixed case, made by token_urlsafe
    session.commit()
    assert structure.find_team_by_join_code(session, "7qf0-kx1n-b3wea") is new
    assert structure.find_team_by_join_code(session, "7QFOKXINB3WEA") is new, "O for 0 and I for 1"
    assert structure.find_team_by_join_code(session, "1Wrd2iQkHOnVebSD") is old
    assert structure.find_team_by_join_code(session, "1wrd2iqkhonvebsd") is None, "old codes: exactly"
    assert structure.find_team_by_join_code(session, "7QF0KX1NB3WEB") is None
