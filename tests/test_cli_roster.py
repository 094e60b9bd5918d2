"""`pulse roster`, `pulse enrolment-codes` and `pulse rating-mode`, run as operators run them; and the demo's
roster."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import AuditEvent, RatingMode, StaffMember, Team
from pulse.services import organisation
from pulse.services.accounts import roster
from tests.factories import make_org
from tests.factories_roster import NOW, put_on_team
from tests.test_cli import run as run  # the `run` fixture

ROSTER = (
    "identifier,team,department\na@example.nhs.uk,Team 1,Emergency Department\nb@example.nhs.uk,Team 2,\n"
)


def test_roster_import_export_and_replace(run, session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_org(session)
    source = tmp_path / "roster.csv"
    source.write_text(ROSTER, encoding="utf-8")
    first = run("roster", "import", str(source))
    assert first.exit_code == 0, first.output
    assert "2 added to teams, 0 removed from teams, 0 unchanged; 2 new people" in first.output
    assert (
        "0 added to teams, 0 removed from teams, 2 unchanged" in run("roster", "import", str(source)).output
    )

    source.write_text("identifier,team\na@example.nhs.uk,Team 1\n", encoding="utf-8")
    assert (
        "0 added to teams, 0 removed from teams, 1 unchanged" in run("roster", "import", str(source)).output
    )
    replaced = run("roster", "import", str(source), "--replace")
    assert "0 added to teams, 1 removed from teams, 1 unchanged" in replaced.output

    out = tmp_path / "out.csv"
    assert run("roster", "export", str(out)).exit_code == 0
    assert (
        out.read_text(encoding="utf-8")
        == "identifier,team,department\na@example.nhs.uk,Team 1,Emergency Department\n"
    )
    assert "a@example.nhs.uk,Team 1" in run("roster", "export").output
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["roster.import", "roster.import"]  # the runs that changed something
    assert session.scalars(select(AuditEvent.actor)).all() == ["command line", "command line"]


def test_a_bad_roster_file_names_its_lines_and_imports_nothing(run, session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_org(session)
    source = tmp_path / "roster.csv"
    source.write_text(
        "identifier,team\nok@example.nhs.uk,Team 1\nbad\u202e@x.nhs.uk,Team 1\n", encoding="utf-8"
    )
    result = run("roster", "import", str(source))
    assert result.exit_code == 1
    assert "line 3: identifier: Remove the hidden control or formatting character (U+202E)" in result.output
    assert "nothing was imported" in result.output
    assert session.scalar(select(func.count()).select_from(StaffMember)) == 0


def test_enrolment_codes_for_a_team_and_a_person(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    people = put_on_team(session, org.team, "a@example.nhs.uk", "b@example.nhs.uk")
    result = run("enrolment-codes", "issue", "--team", str(org.team.id))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["identifier"] for r in rows] == ["a@example.nhs.uk", "b@example.nhs.uk"]
    assert rows[0]["enrolment_link"] == f"https://<your Pulse address>/enrol/{rows[0]['code']}"
    assert "shown only now" in result.stderr
    enrolment = roster.redeem_code(session, rows[1]["code"], now=NOW)
    session.commit()
    assert enrolment.staff_member_id == people[1].id

    only_unenrolled = run("enrolment-codes", "issue", "--team", str(org.team.id))
    assert [r["identifier"] for r in csv.DictReader(io.StringIO(only_unenrolled.stdout))] == [
        "a@example.nhs.uk"
    ]
    person = run("enrolment-codes", "issue", "--person", "B@example.nhs.uk")
    assert person.exit_code == 0 and "b@example.nhs.uk," in person.stdout

    for args, message in (
        ((), "Give either --team TEAM_ID or --person IDENTIFIER."),
        (("--team", "9999"), "There is no team with id 9999."),
        (("--person", "nobody@example.nhs.uk"), "nobody@example.nhs.uk is not on the roster."),
    ):
        refused = run("enrolment-codes", "issue", *args)
        assert refused.exit_code != 0 and message in refused.output


def test_rating_mode_shows_switches_and_refuses_without_rosters(run, session: Session) -> None:  # type: ignore[no-untyped-def]
    org = make_org(session)
    shown = run("rating-mode")
    assert shown.exit_code == 0 and "Rating is open." in shown.output
    assert "someone with the link can still add ratings of their own" in shown.output
    put_on_team(session, org.team, "a@example.nhs.uk")
    refused = run("rating-mode", "verified")
    assert refused.exit_code == 1 and "1 team has none: Emergency Department / Team 2." in refused.output
    put_on_team(session, org.teams[1], "b@example.nhs.uk")
    assert "Rating is now verified." in run("rating-mode", "verified").output
    assert "Rating was already verified." in run("rating-mode", "verified").output
    session.rollback()
    assert organisation.rating_mode(session) == RatingMode.VERIFIED
    assert run("rating-mode", "sometimes").exit_code == 2


def test_the_demo_seeds_a_roster_matching_the_headcounts_and_can_run_verified(
    run,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    result = run("demo", "--weeks", "1", "--no-serve", "--verified")
    assert result.exit_code == 0, result.output
    assert "synthetic staff (staff0001@demo.invalid ...)" in result.output
    assert "Rating is verified" in result.output
    session.rollback()
    teams = session.scalars(select(Team)).all()
    sizes = roster.roster_sizes(session)
    assert all(sizes[team.id] == team.headcount for team in teams)
    assert roster.team_headcounts(session, teams) == {team.id: team.headcount for team in teams}
    assert session.scalar(select(func.count()).select_from(StaffMember)) == sum(t.headcount for t in teams)
    assert roster.find_person(session, "staff0001@demo.invalid") is not None
    assert organisation.rating_mode(session) == RatingMode.VERIFIED
    # It prints a personal enrolment code to try verified rating with, for someone on the team it names.
    found = re.search(
        r"enrol as (\S+) with the code (\S+) \(it works once\): open (\S+)/enrol/\2, press "
        r"\"Enrol this phone\", then rate at \3/r/(\S+)",
        result.output,
    )
    assert found, result.output
    identifier, code, _base, join_code = found.groups()
    team = next(t for t in teams if t.join_code == join_code)
    assert identifier in [line.person.identifier for line in roster.team_roster(session, team)]
    enrolment = roster.redeem_code(session, code, now=NOW)  # and the code works
    assert enrolment.identifier == identifier and team in enrolment.teams
