"""Roster CSV import and export: all-or-nothing, idempotent, replace mode, errors naming line and field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import AuditEvent, StaffMember, roster_entry
from pulse.services import structure
from pulse.services.accounts import roster
from tests.factories import make_org
from tests.factories_roster import TODAY, put_on_team

GOOD = """identifier,team,department
nurse.one@example.nhs.uk,Team 1,Emergency Department
NURSE.ONE@example.nhs.uk,Team 2,
10293847,Team 2,Emergency Department
hca.two@example.nhs.uk,team 1,emergency department
"""


def entries(session: Session) -> set[tuple[str, str]]:
    session.expire_all()
    return {(p.identifier, t.name) for p in session.scalars(select(StaffMember)) for t in p.teams}


def load(session: Session, text: str, **options: object):  # type: ignore[no-untyped-def]
    return roster.import_roster(session, None, roster.read_roster_csv(text), today=TODAY, **options)  # type: ignore[arg-type]


def test_import_twice_changes_nothing_the_second_time(session: Session) -> None:
    make_org(session)
    first = load(session, GOOD)
    session.commit()
    assert (first.people_created, first.added, first.removed, first.unchanged) == (3, 4, 0, 0)
    assert entries(session) == {
        ("nurse.one@example.nhs.uk", "Team 1"),
        ("nurse.one@example.nhs.uk", "Team 2"),
        ("10293847", "Team 2"),
        ("hca.two@example.nhs.uk", "Team 1"),
    }
    second = load(session, GOOD)
    session.commit()
    assert (second.people_created, second.added, second.removed, second.unchanged) == (0, 0, 0, 4)
    events = session.scalars(select(AuditEvent)).all()
    assert len(events) == 1  # the second import changed nothing, so it logged nothing
    assert events[0].action == "roster.import"
    assert events[0].detail["added"] == 4
    assert "nurse.one@example.nhs.uk: Emergency Department / Team 2" in events[0].detail["added_entries"]


def test_without_replace_nobody_is_removed_and_with_it_the_roster_is_exactly_the_file(
    session: Session,
) -> None:
    org = make_org(session)
    put_on_team(session, org.team, "leaver@example.nhs.uk")
    other = structure.add_department(session, "Maternity")
    ward = structure.add_team(session, other, "Labour Ward", 30)
    put_on_team(session, ward, "midwife@example.nhs.uk")
    load(session, GOOD)
    session.commit()
    assert ("leaver@example.nhs.uk", "Team 1") in entries(session)

    report = load(session, GOOD, replace=True)
    session.commit()
    assert (report.added, report.removed, report.unchanged) == (0, 2, 4)
    assert ("leaver@example.nhs.uk", "Team 1") not in entries(session)
    assert ("midwife@example.nhs.uk", "Labour Ward") not in entries(session)  # exactly the file
    leaver = roster.find_person(session, "leaver@example.nhs.uk")
    assert leaver is not None and leaver.active  # off every roster, but not deactivated
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.detail["mode"] == "replace"
    assert event.detail["removed_entries"] == [
        "leaver@example.nhs.uk: Emergency Department / Team 1",
        "midwife@example.nhs.uk: Maternity / Labour Ward",
    ]


def test_one_teams_file_replaces_that_team_only_and_may_leave_out_the_team(session: Session) -> None:
    org = make_org(session)
    put_on_team(session, org.team, "leaver@example.nhs.uk")
    put_on_team(session, org.teams[1], "stays@example.nhs.uk")
    rows = roster.read_roster_csv("identifier\nnew@example.nhs.uk\n")
    report = roster.import_roster(session, None, rows, today=TODAY, replace=True, team=org.team)
    session.commit()
    assert (report.added, report.removed) == (1, 1)
    assert entries(session) == {("new@example.nhs.uk", "Team 1"), ("stays@example.nhs.uk", "Team 2")}

    elsewhere = roster.read_roster_csv("identifier,team\nx@example.nhs.uk,Team 2\n")
    with pytest.raises(roster.RosterImportError) as refused:
        roster.import_roster(session, None, elsewhere, today=TODAY, team=org.team)
    assert [str(e) for e in refused.value.errors] == [
        "line 2: team: this file is for Emergency Department / Team 1"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,team\nx,Team 1\n", ["line 1: header: missing column: identifier"]),
        (
            "identifier,team,full name\nx,Team 1,Ann\n",
            [
                "line 1: header: unknown column(s): full name; Pulse takes only identifier, team, "
                "department, so leave names and other personal details out of the file"
            ],
        ),
        (
            "identifier,team\nok@example.nhs.uk,Team 1\nbad\u202e@example.nhs.uk,Team 1\n,Team 1\n"
            "two words,Team 1\nok2@example.nhs.uk,Team 1,extra\n",
            [
                "line 3: identifier: Remove the hidden control or formatting character (U+202E): they can "
                "hide or reorder what is shown.",
                "line 4: identifier: Give the person's email address or staff number.",
                "line 5: identifier: An email address or staff number has no spaces in it.",
                "line 6: row: This row has more cells than the header.",
            ],
        ),
        (
            "identifier,team,department\na@example.nhs.uk,Ward 99,\nb@example.nhs.uk,Team 1,Maternity\n"
            "c@example.nhs.uk,,\nd@example.nhs.uk,Team\u2066 1,\n",
            [
                "line 5: team: Remove the hidden control or formatting character (U+2066): they can hide or "
                "reorder what is shown."
            ],
        ),
        (
            "identifier,team,department\na@example.nhs.uk,Ward 99,\nb@example.nhs.uk,Team 1,Maternity\n"
            "c@example.nhs.uk,,\nd@example.nhs.uk,Twin,\n",
            [
                "line 2: team: no team named 'Ward 99'",
                "line 3: team: no team named 'Team 1' in Maternity",
                "line 4: team: give the team's name",
                "line 5: department: several teams are named 'Twin': say which "
                "(Emergency Department, Surgery)",
            ],
        ),
    ],
)
def test_a_bad_file_names_every_line_and_field_and_imports_nothing(
    session: Session, text: str, expected: list[str]
) -> None:
    org = make_org(session)
    structure.add_team(session, org.department, "Twin", 5)
    structure.add_team(session, structure.add_department(session, "Surgery"), "Twin", 5)
    session.commit()
    with pytest.raises(roster.RosterImportError) as refused:
        load(session, text)
    assert [str(e) for e in refused.value.errors] == expected
    session.rollback()
    assert session.scalar(select(func.count()).select_from(StaffMember)) == 0
    assert session.scalar(select(func.count()).select_from(roster_entry)) == 0


def test_deactivated_people_in_the_file_stay_deactivated_and_are_reported(session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "nurse.one@example.nhs.uk")
    roster.set_person_active(session, None, person, False)
    report = load(session, GOOD)
    assert report.inactive == ("nurse.one@example.nhs.uk",)
    assert "1 people in the file are deactivated" in report.summary()
    assert not person.active


def test_export_is_the_import_format_and_round_trips(session: Session) -> None:
    org = make_org(session)
    load(session, GOOD)
    session.commit()
    exported = roster.export_roster(session)
    assert exported.splitlines() == [
        "identifier,team,department",
        "hca.two@example.nhs.uk,Team 1,Emergency Department",
        "nurse.one@example.nhs.uk,Team 1,Emergency Department",
        "10293847,Team 2,Emergency Department",
        "nurse.one@example.nhs.uk,Team 2,Emergency Department",
    ]
    assert roster.export_roster(session, [org.teams[1]]).count("\n") == 3
    report = load(session, exported, replace=True)
    assert (report.added, report.removed, report.unchanged) == (0, 0, 4)


def test_a_large_roster_imports_in_one_go(session: Session) -> None:
    org = make_org(session, teams=20)
    lines = ["identifier,team"] + [f"staff{n:05d}@example.nhs.uk,Team {n % 20 + 1}" for n in range(3000)]
    report = load(session, "\n".join(lines))
    session.commit()
    assert (report.people_created, report.added) == (3000, 3000)
    assert roster.roster_sizes(session)[org.teams[0].id] == 150
    replaced = load(session, "\n".join(lines[:1501]), replace=True)
    assert replaced.removed == 1500
