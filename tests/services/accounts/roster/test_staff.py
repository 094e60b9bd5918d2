"""The roster person by person, the headcount rule of both modes, and switching the rating mode."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import AuditEvent, RatingMode, Role, StaffMember
from pulse.services import accounts, structure
from pulse.services.accounts import roster
from pulse.services.errors import InvalidInput
from pulse.services.organisation import rating_mode
from tests.factories import make_org
from tests.factories_roster import TODAY, put_on_team, staff, verified


def audit(session: Session) -> list[tuple[str, str, str, dict[str, object]]]:
    return [
        (e.actor, e.action, e.target, e.detail)
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]


def test_adding_a_person_makes_them_once_and_audits_who_did_it(session: Session) -> None:
    org = make_org(session)
    admin = accounts.create_user(session, email="admin@example.nhs.uk", name="Ada", role=Role.ADMIN)
    person, added = roster.add_to_team(session, admin, "  Nurse.One@Example.NHS.uk ", org.team, today=TODAY)
    assert added and person.identifier == "nurse.one@example.nhs.uk" and person.created_on == TODAY
    again, added_again = roster.add_to_team(session, admin, "nurse.one@example.nhs.uk", org.team, today=TODAY)
    assert again.id == person.id and not added_again
    _, on_second = roster.add_to_team(session, None, "NURSE.ONE@example.nhs.uk", org.teams[1], today=TODAY)
    assert on_second
    session.commit()
    assert [t.name for t in person.teams] == ["Team 1", "Team 2"]  # one person, several teams
    assert session.scalars(select(StaffMember)).all() == [person]
    assert audit(session) == [
        (
            "admin@example.nhs.uk",
            "roster.add",
            "nurse.one@example.nhs.uk",
            {"team": "Emergency Department / Team 1"},
        ),
        ("command line", "roster.add", "nurse.one@example.nhs.uk", {"team": "Emergency Department / Team 2"}),
    ]


def test_removing_and_deactivating_are_audited_and_idempotent(session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "12345678")  # a staff number, kept as given
    assert person.identifier == "12345678"
    assert roster.remove_from_team(session, None, person, org.team)
    assert not roster.remove_from_team(session, None, person, org.team)
    assert roster.set_person_active(session, None, person, False)
    assert not roster.set_person_active(session, None, person, False)
    assert roster.set_person_active(session, None, person, True)
    assert [a[1] for a in audit(session)] == [
        "roster.add",
        "roster.remove",
        "staff.deactivate",
        "staff.reactivate",
    ]


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("", "Enter the person's email address or staff number."),
        ("nurse\u202eone@example.nhs.uk", "U+202E"),  # a right-to-left override
        ("nurse\u200bone@example.nhs.uk", "U+200B"),  # a zero-width space
        ("nurse\x07@example.nhs.uk", "U+0007"),
        ("nurse one@example.nhs.uk", "no spaces"),
        ("=HYPERLINK(1)", "cannot start with"),
        ("nurse@", "whole email address"),
        ("x" * 255, "at most 254"),
    ],
)
def test_identifiers_pulse_cannot_take_are_refused_naming_the_field(
    session: Session, identifier: str, message: str
) -> None:
    org = make_org(session)
    with pytest.raises(InvalidInput) as refused:
        roster.add_to_team(session, None, identifier, org.team, today=TODAY)
    assert refused.value.field == "identifier"
    assert message in str(refused.value)
    session.rollback()
    assert session.scalars(select(StaffMember)).all() == []


def test_a_deactivated_person_cannot_be_added_to_a_team(session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    roster.set_person_active(session, None, person, False)
    with pytest.raises(InvalidInput, match="deactivated"):
        roster.add_to_team(session, None, "a@example.nhs.uk", org.teams[1], today=TODAY)


def test_headcount_is_typed_in_open_mode_and_the_active_roster_in_verified_mode(session: Session) -> None:
    org = make_org(session, headcount=20)
    people = put_on_team(session, org.team, *staff(7))
    put_on_team(session, org.teams[1], *staff(3, start=5))  # two of them on both teams
    roster.set_person_active(session, None, people[0], False)
    session.commit()
    assert roster.team_headcounts(session, org.teams) == {org.teams[0].id: 20, org.teams[1].id: 20}
    verified(session)
    assert roster.team_headcounts(session, org.teams) == {org.teams[0].id: 6, org.teams[1].id: 3}
    assert roster.team_headcount(session, org.team) == 6
    empty = structure.add_team(session, org.department, "New team", 40)
    assert roster.team_headcount(session, empty) == 0


def test_verified_mode_needs_every_active_team_to_have_a_roster(session: Session) -> None:
    org = make_org(session)
    put_on_team(session, org.team, "a@example.nhs.uk")
    inactive = structure.add_team(session, org.department, "Closed ward", 10, active=False)
    del inactive
    with pytest.raises(roster.RosterMissing) as refused:
        roster.switch_rating_mode(session, None, RatingMode.VERIFIED)
    assert refused.value.field == "rating_mode"
    assert [t.name for t in refused.value.teams] == ["Team 2"]
    assert "1 team has none: Emergency Department / Team 2." in str(refused.value)
    assert rating_mode(session) == RatingMode.OPEN

    (person,) = put_on_team(session, org.teams[1], "b@example.nhs.uk")
    roster.set_person_active(session, None, person, False)  # a deactivated person is no roster
    with pytest.raises(roster.RosterMissing):
        roster.switch_rating_mode(session, None, RatingMode.VERIFIED)
    roster.set_person_active(session, None, person, True)
    assert roster.switch_rating_mode(session, None, RatingMode.VERIFIED)
    assert not roster.switch_rating_mode(session, None, RatingMode.VERIFIED)
    assert rating_mode(session) == RatingMode.VERIFIED
    assert roster.switch_rating_mode(session, None, RatingMode.OPEN)  # open needs nothing
    modes = [a[3] for a in audit(session) if a[1] == "settings.rating_mode"]
    assert modes == [{"before": "open", "after": "verified"}, {"before": "verified", "after": "open"}]


def test_managers_act_on_people_of_their_departments_only(session: Session) -> None:
    org = make_org(session)
    other = structure.add_department(session, "Maternity")
    ward = structure.add_team(session, other, "Labour Ward", 30)
    manager = accounts.create_user(
        session, email="m@example.nhs.uk", name="M", role=Role.MANAGER, departments=[org.department]
    )
    admin = accounts.create_user(session, email="a@example.nhs.uk", name="A", role=Role.ADMIN)
    (mine,) = put_on_team(session, org.team, "mine@example.nhs.uk")
    (theirs,) = put_on_team(session, ward, "theirs@example.nhs.uk")
    (both,) = put_on_team(session, ward, "both@example.nhs.uk")
    put_on_team(session, org.team, "both@example.nhs.uk")
    assert roster.may_act_on(manager, mine) and roster.may_act_on(manager, both)
    assert not roster.may_act_on(manager, theirs)
    assert all(roster.may_act_on(admin, p) for p in (mine, theirs, both))
