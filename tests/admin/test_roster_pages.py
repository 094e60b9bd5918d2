"""The roster in the admin area: a team's people, CSV in and out, printable enrolment codes shown once, a
person's phones and codes, the whole roster, and the rating mode. Every change is audited with who made it;
bad input is refused beside its field."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from pulse.models import RatingMode
from pulse.services import organisation
from pulse.services.accounts import roster
from pulse.services.accounts.roster.codes import ALPHABET
from tests.admin.conftest import People, audited, csrf_token, fresh, post, sign_in
from tests.admin.test_organisation_pages import refused_field
from tests.factories_roster import NOW, put_on_team

NURSE = "nurse.one@example.nhs.uk"  # on org.team in the people fixture, with a live code and a phone
CODE = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")


@pytest.fixture
def manager(client: FlaskClient, people: People) -> FlaskClient:
    sign_in(client, people.manager.email)
    return client


@pytest.fixture
def admin(client: FlaskClient, people: People) -> FlaskClient:
    sign_in(client, people.admin.email)
    return client


def upload(client: FlaskClient, path: str, body: str, **fields: str) -> TestResponse:
    data: dict[str, object] = {
        "file": (io.BytesIO(body.encode()), "roster.csv"),
        "csrf_token": csrf_token(client, "/admin/login"),
        **fields,
    }
    return client.post(path, data=data, content_type="multipart/form-data")


def text(response: TestResponse) -> str:
    """The page as read: entities decoded, runs of white space as one space."""
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def test_a_manager_adds_and_removes_people_on_their_team(
    manager: FlaskClient, people: People, session: Session
) -> None:
    team = people.org.team
    page = text(manager.get(f"/admin/teams/{team.id}/roster"))
    assert NURSE in page and "Rating is open now" in page

    response = post(manager, f"/admin/teams/{team.id}/roster", identifier=" HCA.Two@Example.NHS.uk ")
    assert response.status_code == 303 and response.location.endswith("done=added")
    assert "hca.two@example.nhs.uk" in text(manager.get(response.location))
    again = post(manager, f"/admin/teams/{team.id}/roster", identifier="hca.two@example.nhs.uk")
    assert again.location.endswith("done=already")

    person = roster.find_person(session, "hca.two@example.nhs.uk")
    assert person is not None
    removed = post(manager, f"/admin/teams/{team.id}/roster/{person.id}/remove")
    assert removed.status_code == 303
    assert audited(session) == [
        (
            people.manager.email,
            "roster.add",
            "hca.two@example.nhs.uk",
            {"team": "Emergency Department / Team 1"},
        ),
        (
            people.manager.email,
            "roster.remove",
            "hca.two@example.nhs.uk",
            {"team": "Emergency Department / Team 1"},
        ),
    ]


@pytest.mark.parametrize(
    ("identifier", "message"),
    [("", "Enter the person's email address or staff number."), ("bad\u202e@example.nhs.uk", "U+202E")],
)
def test_a_bad_identifier_is_refused_beside_the_field(
    manager: FlaskClient, people: People, session: Session, identifier: str, message: str
) -> None:
    response = post(manager, f"/admin/teams/{people.org.team.id}/roster", identifier=identifier)
    refused_field(response, "identifier")
    assert message in text(response)
    assert audited(session) == []


def test_a_teams_csv_is_imported_and_exported(manager: FlaskClient, people: People, session: Session) -> None:
    team = people.org.team
    exported = manager.get(f"/admin/teams/{team.id}/roster.csv")
    assert exported.mimetype == "text/csv"
    assert (
        exported.get_data(as_text=True)
        == f"identifier,team,department\n{NURSE},Team 1,Emergency Department\n"
    )

    response = upload(
        manager, f"/admin/teams/{team.id}/roster/import", "identifier\nnew@example.nhs.uk\n", replace="true"
    )
    assert response.status_code == 200
    assert "Imported. 1 added to teams, 1 removed from teams" in text(response)
    fresh(session)
    assert [line.person.identifier for line in roster.team_roster(session, team)] == ["new@example.nhs.uk"]
    ((who, action, target, detail),) = audited(session)
    assert (who, action, target, detail["mode"], detail["removed_entries"]) == (
        people.manager.email,
        "roster.import",
        "roster.csv",
        "replace",
        [f"{NURSE}: Emergency Department / Team 1"],
    )


def test_a_bad_csv_lists_every_line_and_imports_nothing(
    admin: FlaskClient, people: People, session: Session
) -> None:
    body = "identifier,team\nok@example.nhs.uk,Team 1\nx y,Team 1\nz@example.nhs.uk,Ward 99\n"
    response = upload(admin, "/admin/roster", body)
    page = text(response)
    assert response.status_code == 422
    assert "Line 3, identifier: An email address or staff number has no spaces in it." in page
    assert "nothing was imported" in page
    assert roster.find_person(session, "ok@example.nhs.uk") is None
    missing_file = admin.post(
        "/admin/roster", data={"csrf_token": csrf_token(admin)}, content_type="multipart/form-data"
    )
    refused_field(missing_file, "file")


def test_the_whole_roster_imports_a_large_file(admin: FlaskClient, people: People, session: Session) -> None:
    """Larger than the rating API's request limit (16 KB): the upload routes allow a real trust's roster."""
    lines = ["identifier,team,department"] + [
        f"staff{n:05d}@example.nhs.uk,Team {n % 2 + 1},Emergency Department" for n in range(1500)
    ]
    body = "\n".join(lines) + "\n"
    assert len(body) > 64 * 1024
    response = upload(admin, "/admin/roster", body, replace="true")
    assert response.status_code == 200, text(response)[:300]
    assert "Imported. 1500 added to teams, 1 removed from teams" in text(response)
    fresh(session)
    assert roster.roster_sizes(session)[people.org.teams[0].id] == 750
    assert admin.get("/admin/roster.csv").get_data(as_text=True).count("\n") == 1501


def test_codes_for_a_team_are_shown_once_on_a_printable_sheet(
    manager: FlaskClient, people: People, session: Session
) -> None:
    team = people.org.team
    put_on_team(session, team, "hca.two@example.nhs.uk", "porter@example.nhs.uk")
    response = post(manager, f"/admin/teams/{team.id}/enrolment-codes")  # not for the nurse, who has a phone
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    sheet = text(response)
    codes = CODE.findall(sheet)
    assert len(set(codes)) == 2
    assert sheet.count('class="qr"') == 2
    assert "or open <strong>http://localhost/enrol</strong> and type:" in sheet
    assert "QR code of the enrolment link for hca.two@example.nhs.uk" in sheet
    assert "These codes are shown only now." in sheet
    assert NURSE not in sheet
    ((who, action, target, detail),) = [e for e in audited(session) if e[0] == people.manager.email]
    assert (who, action, target) == (
        people.manager.email,
        "enrolment_code.issue_team",
        "Emergency Department / Team 1",
    )
    assert detail["people"] == ["hca.two@example.nhs.uk", "porter@example.nhs.uk"]
    for code in codes:
        assert code not in str(detail)

    # Afterwards the roster shows each code's status, never the code.
    later = text(manager.get(f"/admin/teams/{team.id}/roster"))
    assert not CODE.search(later) and "live" in later
    # The codes work.
    enrolment = roster.redeem_code(session, codes[0], now=NOW)
    assert enrolment.identifier == "hca.two@example.nhs.uk"


def test_nobody_to_issue_codes_for_is_said_beside_the_box(manager: FlaskClient, people: People) -> None:
    response = post(manager, f"/admin/teams/{people.org.team.id}/enrolment-codes")
    refused_field(response, "include_enrolled")
    assert "Everyone active on this roster already has an enrolled phone." in text(response)


def test_a_persons_page_revokes_codes_and_phones(
    manager: FlaskClient, people: People, session: Session
) -> None:
    base = f"/admin/staff/{people.staff_id}"
    page = text(manager.get(base))
    assert "Not used yet" in page and "Enrolled" in page and "Deactivate" not in page  # managers cannot
    assert post(manager, f"{base}/enrolment-codes/{people.code_id}/revoke").location.endswith(
        "done=code-revoked"
    )
    assert post(manager, f"{base}/devices/{people.device_id}/revoke").location.endswith("done=device-revoked")
    page = text(manager.get(f"{base}?done=device-revoked"))
    assert "Cancelled" in page and "gets no new rating tokens" in page

    sheet = post(manager, f"{base}/enrolment-codes")
    assert sheet.status_code == 200 and len(CODE.findall(text(sheet))) == 1
    assert [a[1] for a in audited(session)] == [
        "enrolment_code.revoke",
        "device.revoke",
        "enrolment_code.issue",
    ]
    person = roster.get_person(session, people.staff_id)
    assert person is not None
    statuses = [c.status for c in roster.list_codes(session, person, NOW)]
    assert statuses == [roster.CodeStatus.LIVE, roster.CodeStatus.REVOKED]


def test_an_administrator_deactivates_a_person_and_cancels_every_phone(
    admin: FlaskClient, people: People, session: Session
) -> None:
    base = f"/admin/staff/{people.staff_id}"
    assert post(admin, f"{base}/devices/revoke").location.endswith("done=devices-revoked")
    assert post(admin, f"{base}/active", active="false").location.endswith("done=deactivated")
    fresh(session)
    person = roster.get_person(session, people.staff_id)
    assert person is not None and not person.active
    refused = post(admin, f"{base}/enrolment-codes")
    refused_field(refused, "issue-code")
    assert [a[1] for a in audited(session)] == ["device.revoke_all", "staff.deactivate"]


def test_a_manager_cannot_see_people_only_on_other_departments_teams(
    manager: FlaskClient, people: People, session: Session
) -> None:
    (midwife,) = put_on_team(session, people.other_department.teams[0], "midwife@example.nhs.uk")
    response = manager.get(f"/admin/staff/{midwife.id}")
    assert response.status_code == 403
    assert manager.get("/admin/staff/999999").status_code == 404


def test_verified_rating_needs_a_roster_for_every_team_and_says_which_lack_one(
    admin: FlaskClient, people: People, session: Session
) -> None:
    page = text(admin.get("/admin/organisation"))
    assert "someone with the link can still add ratings of their own" in page  # open mode, said plainly
    assert "so small weeks cannot be protected against a colleague who does that" in page
    refused = post(admin, "/admin/rating-mode", rating_mode="verified")
    refused_field(refused, "rating_mode")
    assert "Emergency Department / Team 2; Maternity / Labour Ward." in text(refused)
    assert organisation.rating_mode(session) == RatingMode.OPEN

    for team in (people.org.teams[1], people.other_department.teams[0]):
        put_on_team(session, team, f"someone@team{team.id}.example.nhs.uk")
    done = post(admin, "/admin/rating-mode", rating_mode="verified")
    assert done.status_code == 303 and done.location.endswith("done=rating-mode-saved#rating-mode")
    fresh(session)
    assert organisation.rating_mode(session) == RatingMode.VERIFIED
    assert audited(session)[-1] == (
        people.admin.email,
        "settings.rating_mode",
        "rating",
        {"before": "open", "after": "verified"},
    )
    refused_field(post(admin, "/admin/rating-mode", rating_mode="closed"), "rating_mode")


def test_in_verified_mode_the_admin_pages_show_the_roster_size_as_headcount(
    admin: FlaskClient, people: People, session: Session
) -> None:
    team = people.org.team  # typed headcount 20; one person on its roster
    organisation.set_rating_mode(session, RatingMode.VERIFIED)
    session.commit()
    page = text(admin.get(f"/admin/teams/{team.id}"))
    assert "no shared tablets" in page and "turn on ward tablet mode" not in page
    assert "its headcount is the 1 active person on the roster" in page
    assert "the roster size (1) is used instead of this number" in page
    home = admin.get("/admin/").get_data(as_text=True)
    assert re.search(
        rf'teams/{team.id}">Team 1</a></td>\s*<td>1( <span class="tag">[^<]*</span>)?</td>', home
    )
    roster_page = text(admin.get(f"/admin/teams/{team.id}/roster"))
    assert "the team's headcount is the 1 active person on this roster" in roster_page


def test_a_structure_file_larger_than_the_api_body_limit_imports_too(
    admin: FlaskClient, people: People
) -> None:
    """Upload routes lift the 16 KB request limit meant for the rating API (it refused this file with 413)."""
    rows = ["kind,name,department,headcount"] + [
        f"team,Ward {n:04d},Emergency Department,12" for n in range(800)
    ]
    body = "\n".join(rows) + "\n"
    assert len(body) > 16 * 1024
    response = upload(admin, "/admin/structure", body)
    assert response.status_code == 200, text(response)[:300]
    assert "teams: 800 created" in text(response)


def test_the_roster_tables_refer_to_no_rating_table(app) -> None:  # type: ignore[no-untyped-def]
    """Who may rate is kept apart from what was rated: the roster's tables point at people and teams only."""
    from pulse.db import Base

    for name in ("staff_member", "roster_entry", "enrolment_code", "enrolled_device"):
        referred = {fk.column.table.name for fk in Base.metadata.tables[name].foreign_keys}
        assert referred <= {"staff_member", "team"}, (name, referred)
    rating_tables = {"team_week_tally", "team_week_reason_tally", "org_shift_tally", "rating_key"}
    for table in Base.metadata.tables.values():
        if table.name in rating_tables or table.name.endswith("_receipt"):
            assert not {fk.column.table.name for fk in table.foreign_keys} & {
                "staff_member",
                "enrolment_code",
                "enrolled_device",
            }
