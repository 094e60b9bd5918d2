"""Changes from the admin area: clashes are clear messages; retired things come back with their history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from pulse.services import structure
from pulse.services.errors import InvalidInput
from tests.factories import make_org

TODAY = dt.date(2026, 11, 18)


def test_a_retired_band_comes_back_only_with_its_own_times(session: Session) -> None:
    org = make_org(session)
    late = org.bands["Late"]
    structure.retire_shift_band(session, late, TODAY)
    with pytest.raises(InvalidInput, match="14:30 to 22:30"):
        structure.create_shift_band(session, "late", dt.time(15, 0), dt.time(23, 0))
    back = structure.create_shift_band(session, "Late", dt.time(14, 30), dt.time(22, 30))
    assert back.id == late.id and back.active


def test_the_last_band_cannot_be_retired(session: Session) -> None:
    org = make_org(session)
    structure.retire_shift_band(session, org.bands["Late"], TODAY)
    structure.retire_shift_band(session, org.bands["Night"], TODAY)
    with pytest.raises(InvalidInput, match="at least one shift band"):
        structure.retire_shift_band(session, org.bands["Early"], TODAY)


def test_names_clash_whatever_their_case(session: Session) -> None:
    org = make_org(session)
    with pytest.raises(InvalidInput, match="already a department"):
        structure.create_department(session, "emergency department")
    with pytest.raises(InvalidInput, match="already has a team"):
        structure.create_team(session, org.department, "TEAM 2", 5)
    with pytest.raises(InvalidInput, match="already a shift band"):
        structure.create_shift_band(session, "EARLY", dt.time(6), dt.time(14))


def test_a_team_moves_only_to_an_active_department_without_a_namesake(session: Session) -> None:
    org = make_org(session)
    other = structure.create_department(session, "Surgery")
    structure.create_team(session, other, org.team.name, 10)
    with pytest.raises(InvalidInput, match="already has a team"):
        structure.move_team(session, org.team, other)
    with pytest.raises(InvalidInput, match="already in"):
        structure.move_team(session, org.team, org.department)
    elsewhere = structure.create_department(session, "Theatres")
    structure.update_department(session, elsewhere, name="Theatres", active=False)
    with pytest.raises(InvalidInput, match="not active"):
        structure.move_team(session, org.team, elsewhere)


def test_deactivating_a_team_switches_its_tablet_off(session: Session) -> None:
    from pulse.services.rating.kiosk import enable_kiosk

    org = make_org(session)
    enable_kiosk(session, org.team)
    structure.update_team(session, org.team, name=org.team.name, headcount=20, active=False, today=TODAY)
    assert org.team.kiosk_token is None
