"""Importing the structure from CSV: idempotent, every bad row named, nothing half-imported."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from pulse.models import Department, ReasonTag, ShiftBand, Team
from pulse.services.structure import (
    JOIN_CODE_LENGTH,
    StructureImportError,
    export_structure,
    import_structure,
    read_structure_csv,
)

TODAY = dt.date(2026, 11, 18)
GOOD = """kind,name,department,headcount,active,start,end
department,Emergency Department,,,,,
department,Maternity,,,,,
team,Majors,Emergency Department,24,yes,,
team,Resus,Emergency Department,12,,,
team,Labour Ward,Maternity,30,yes,,
band,Early,,,,07:00,15:00
band,Night,,,,22:00,07:30
tag,Staffing levels,,,,,
tag,Teamwork,,,yes,,
"""


def counts(session) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(m)) for m in (Department, Team, ShiftBand, ReasonTag)
    )


def test_import_creates_everything_once(session) -> None:
    report = import_structure(session, read_structure_csv(GOOD), today=TODAY)
    session.commit()
    assert counts(session) == (2, 3, 2, 2)
    assert report.created == {"department": 2, "team": 3, "band": 2, "tag": 2}
    night = session.scalar(select(ShiftBand).where(ShiftBand.name == "Night"))
    assert (night.start_time, night.end_time) == (dt.time(22, 0), dt.time(7, 30))
    codes = [t.join_code for t in session.scalars(select(Team))]
    assert len(set(codes)) == 3 and all(len(c) == JOIN_CODE_LENGTH for c in codes)


def test_import_is_idempotent(session) -> None:
    import_structure(session, read_structure_csv(GOOD), today=TODAY)
    session.commit()
    codes = {t.name: t.join_code for t in session.scalars(select(Team))}
    report = import_structure(session, read_structure_csv(GOOD), today=TODAY)
    session.commit()
    assert counts(session) == (2, 3, 2, 2)
    assert sum(report.created.values()) == sum(report.updated.values()) == 0
    assert sum(report.unchanged.values()) == 9
    assert {t.name: t.join_code for t in session.scalars(select(Team))} == codes, (
        "join codes survive re-import"
    )


def test_import_updates_headcount_and_active(session) -> None:
    import_structure(session, read_structure_csv(GOOD), today=TODAY)
    session.commit()
    changed = GOOD.replace(
        "team,Majors,Emergency Department,24,yes", "team,Majors,Emergency Department,26,no"
    )
    report = import_structure(session, read_structure_csv(changed), today=TODAY)
    session.commit()
    majors = session.scalar(select(Team).where(Team.name == "Majors"))
    assert (majors.headcount, majors.active) == (26, False)
    assert report.updated == {"team": 1}


def test_every_bad_row_is_reported_and_nothing_is_imported(session) -> None:
    bad = GOOD + (
        "team,Ward 9,Nowhere Department,10,,,\n"  # line 11: unknown department
        "team,Ward 10,Maternity,,,,\n"  # line 12: no headcount
        "band,Twilight,,,,19:00,\n"  # line 13: no end
        "team,Ward 11,Maternity,-3,,,\n"  # line 14: negative headcount
        "shift,Odd,,,,,\n"  # line 15: unknown kind
        "team,Majors,Emergency Department,24,maybe,,\n"  # line 16: bad boolean
        "band,Late,,,,25:00,22:30\n"  # line 17: bad time
    )
    with pytest.raises(StructureImportError) as caught:
        import_structure(session, read_structure_csv(bad), today=TODAY)
    found = {(e.line, e.field) for e in caught.value.errors}
    assert found == {
        (12, "headcount"),
        (13, "end"),
        (14, "headcount"),
        (15, "kind"),
        (16, "active"),
        (17, "start"),
    }
    assert counts(session) == (0, 0, 0, 0)


def test_semantic_errors_are_reported_before_any_change(session) -> None:
    bad = GOOD + "team,Ward 9,Nowhere Department,10,,,\nteam,Majors,Emergency Department,20,,,\n"
    with pytest.raises(StructureImportError) as caught:
        import_structure(session, read_structure_csv(bad), today=TODAY)
    assert {(e.line, e.field) for e in caught.value.errors} == {(11, "department"), (12, "name")}
    session.rollback()
    assert counts(session) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,department\nx,y\n", "missing column"),
        ("kind,name,colour\nteam,x,red\n", "unknown column"),
        ("kind,name\ndepartment,A,extra\n", "more cells"),
    ],
)
def test_malformed_files_are_explained(text: str, message: str) -> None:
    with pytest.raises(StructureImportError) as caught:
        read_structure_csv(text)
    assert message in str(caught.value.errors[0])


def test_export_round_trips(session) -> None:
    import_structure(session, read_structure_csv(GOOD), today=TODAY)
    session.commit()
    exported = export_structure(session)
    report = import_structure(session, read_structure_csv(exported), today=TODAY)
    assert sum(report.created.values()) == sum(report.updated.values()) == 0
    assert "Labour Ward" in exported and "22:00,07:30" in exported
