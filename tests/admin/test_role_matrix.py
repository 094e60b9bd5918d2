"""Every privileged route x {anonymous, manager of this department, manager of another, administrator}.

Checked on the server: 401 for anonymous, 403 where the account may not act, success (200, or 303 after a
change) where it may. The table must name every route of the admin area, so a new one cannot be forgotten.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.admin.conftest import PASSWORD, People, audited, csrf_token, sign_in

# Routes anyone may use: signing in and out, and single sign-on.
OPEN = {
    "admin.login_form",
    "admin.login",
    "admin.logout",
    "admin.sso_login",
    "admin.sso_callback",
    "admin.static",
}

ADMIN, DEPARTMENT, SIGNED_IN = "administrators", "managers of the department", "anyone signed in"


@dataclass
class Case:
    endpoint: str
    method: str
    scope: str
    path: Callable[[People], str]
    data: Callable[[People], dict[str, Any]] = field(default=lambda p: {})


def _csv() -> tuple[io.BytesIO, str]:
    return io.BytesIO(
        b"kind,name,department,headcount\nteam,Resus,Emergency Department,12\n"
    ), "structure.csv"


CASES = [
    Case("admin.home", "GET", SIGNED_IN, lambda p: "/admin/"),
    Case("admin.account", "GET", SIGNED_IN, lambda p: "/admin/account"),
    Case(
        "admin.change_password",
        "POST",
        SIGNED_IN,
        lambda p: "/admin/account",
        lambda p: {"current": PASSWORD, "new": "a brand new passphrase", "confirm": "a brand new passphrase"},
    ),
    Case(
        "admin.create_department",
        "POST",
        ADMIN,
        lambda p: "/admin/departments",
        lambda p: {"name": "Theatres"},
    ),
    Case(
        "admin.update_department",
        "POST",
        ADMIN,
        lambda p: f"/admin/departments/{p.org.department.id}",
        lambda p: {"name": "ED", "active": "true"},
    ),
    Case(
        "admin.create_team",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/departments/{p.org.department.id}/teams",
        lambda p: {"name": "Resus", "headcount": "14"},
    ),
    Case("admin.team", "GET", DEPARTMENT, lambda p: f"/admin/teams/{p.org.team.id}"),
    Case(
        "admin.update_team",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}",
        lambda p: {"name": "Majors", "headcount": "25", "active": "true"},
    ),
    Case(
        "admin.move_team",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/move",
        lambda p: {"department_id": str(p.second_department.id)},
    ),
    Case(
        "admin.confirm_rotate_join_code",
        "GET",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/join-code",
    ),
    Case(
        "admin.rotate_join_code",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/join-code",
        lambda p: {"confirm": "replace"},
    ),
    Case(
        "admin.set_kiosk",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/kiosk",
        lambda p: {"action": "enable"},
    ),
    Case("admin.structure_csv", "GET", ADMIN, lambda p: "/admin/structure.csv"),
    Case(
        "admin.import_structure_csv", "POST", ADMIN, lambda p: "/admin/structure", lambda p: {"file": _csv()}
    ),
    Case("admin.organisation", "GET", ADMIN, lambda p: "/admin/organisation"),
    Case(
        "admin.create_shift_band",
        "POST",
        ADMIN,
        lambda p: "/admin/shift-bands",
        lambda p: {"name": "Twilight", "start_time": "18:00", "end_time": "02:00"},
    ),
    Case(
        "admin.retire_shift_band",
        "POST",
        ADMIN,
        lambda p: f"/admin/shift-bands/{p.org.bands['Late'].id}/retire",
    ),
    Case(
        "admin.create_reason_tag",
        "POST",
        ADMIN,
        lambda p: "/admin/reason-tags",
        lambda p: {"label": "Breaks"},
    ),
    Case("admin.retire_reason_tag", "POST", ADMIN, lambda p: f"/admin/reason-tags/{p.org.tags[0].id}/retire"),
    Case(
        "admin.create_support_link",
        "POST",
        ADMIN,
        lambda p: "/admin/support-links",
        lambda p: {"label": "Chaplaincy", "url": "https://chaplaincy.example.nhs.uk/", "description": ""},
    ),
    Case(
        "admin.update_settings",
        "POST",
        ADMIN,
        lambda p: "/admin/settings",
        lambda p: {"k": "12", "dashboard_access": "public"},
    ),
    Case("admin.revoke_dashboard_devices", "POST", ADMIN, lambda p: "/admin/dashboard-devices/revoke"),
    Case("admin.users", "GET", ADMIN, lambda p: "/admin/users"),
    Case("admin.user", "GET", ADMIN, lambda p: f"/admin/users/{p.other_manager.id}"),
    Case(
        "admin.create_user",
        "POST",
        ADMIN,
        lambda p: "/admin/users",
        lambda p: {"email": "new@example.nhs.uk", "name": "New Manager", "role": "manager", "password": ""},
    ),
    Case(
        "admin.set_user_departments",
        "POST",
        ADMIN,
        lambda p: f"/admin/users/{p.other_manager.id}/departments",
        lambda p: {"department_ids": [str(p.org.department.id)]},
    ),
    Case(
        "admin.set_user_active",
        "POST",
        ADMIN,
        lambda p: f"/admin/users/{p.other_manager.id}/active",
        lambda p: {"active": "false"},
    ),
    Case("admin.audit_log", "GET", ADMIN, lambda p: "/admin/audit"),
    Case(
        "admin.department_actions",
        "GET",
        DEPARTMENT,
        lambda p: f"/admin/departments/{p.org.department.id}/actions",
    ),
    Case(
        "admin.record_action",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/departments/{p.org.department.id}/actions",
        lambda p: {
            "taken_on": "2026-11-16",
            "summary": "Breaks are protected on every shift.",
            "rebase": "true",
        },
    ),
    Case("admin.withdraw_action", "POST", DEPARTMENT, lambda p: f"/admin/actions/{p.action_id}/withdraw"),
    # The staff roster and enrolment.
    Case("admin.team_roster", "GET", DEPARTMENT, lambda p: f"/admin/teams/{p.org.team.id}/roster"),
    Case(
        "admin.add_to_roster",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/roster",
        lambda p: {"identifier": "hca.two@example.nhs.uk"},
    ),
    Case(
        "admin.remove_from_roster",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/roster/{p.staff_id}/remove",
    ),
    Case("admin.team_roster_csv", "GET", DEPARTMENT, lambda p: f"/admin/teams/{p.org.team.id}/roster.csv"),
    Case(
        "admin.import_team_roster",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/roster/import",
        lambda p: {"file": (io.BytesIO(b"identifier\nhca.two@example.nhs.uk\n"), "roster.csv")},
    ),
    Case(
        "admin.issue_team_codes",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/teams/{p.org.team.id}/enrolment-codes",
        lambda p: {"include_enrolled": "true"},
    ),
    Case("admin.staff_member", "GET", DEPARTMENT, lambda p: f"/admin/staff/{p.staff_id}"),
    Case(
        "admin.issue_person_code", "POST", DEPARTMENT, lambda p: f"/admin/staff/{p.staff_id}/enrolment-codes"
    ),
    Case(
        "admin.revoke_code",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/staff/{p.staff_id}/enrolment-codes/{p.code_id}/revoke",
    ),
    Case(
        "admin.revoke_device",
        "POST",
        DEPARTMENT,
        lambda p: f"/admin/staff/{p.staff_id}/devices/{p.device_id}/revoke",
    ),
    Case(
        "admin.revoke_all_devices", "POST", DEPARTMENT, lambda p: f"/admin/staff/{p.staff_id}/devices/revoke"
    ),
    Case(
        "admin.set_staff_active",
        "POST",
        ADMIN,
        lambda p: f"/admin/staff/{p.staff_id}/active",
        lambda p: {"active": "false"},
    ),
    Case("admin.roster_overview", "GET", ADMIN, lambda p: "/admin/roster"),
    Case("admin.roster_csv", "GET", ADMIN, lambda p: "/admin/roster.csv"),
    Case(
        "admin.import_roster",
        "POST",
        ADMIN,
        lambda p: "/admin/roster",
        lambda p: {"file": (io.BytesIO(b"identifier,team\nhca.two@example.nhs.uk,Team 1\n"), "roster.csv")},
    ),
    Case(
        "admin.set_rating_mode",
        "POST",
        ADMIN,
        lambda p: "/admin/rating-mode",
        lambda p: {"rating_mode": "open"},
    ),
]

WHO = ["anonymous", "manager of this department", "manager of another department", "administrator"]


def expected(case: Case, who: str) -> str:
    if who == "anonymous":
        return "401"
    if who == "administrator" or case.scope == SIGNED_IN:
        return "ok"
    if case.scope == DEPARTMENT and who == "manager of this department":
        return "ok"
    return "403"


def test_the_table_names_every_admin_route(app: Flask) -> None:
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")}
    # Support links are retired through a route with the link's id, which needs a link first: checked apart.
    named = {case.endpoint for case in CASES} | OPEN | {"admin.retire_support_link"}
    assert routes - named == set(), "add these routes to the role matrix"
    assert named - OPEN - routes == set(), "these routes no longer exist"


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_role_matrix(client: FlaskClient, people: People, session: Session, case: Case, who: str) -> None:
    actor = {
        "manager of this department": people.manager,
        "manager of another department": people.other_manager,
        "administrator": people.admin,
    }.get(who)
    if actor is not None:
        sign_in(client, actor.email)
    data = dict(case.data(people))
    if case.method == "POST":
        data["csrf_token"] = csrf_token(client, "/admin/login")
        response = client.post(case.path(people), data=data, content_type="multipart/form-data")
    else:
        response = client.get(case.path(people))
    body = response.get_data(as_text=True)
    outcome = {401: "401", 403: "403"}.get(
        response.status_code, "ok" if response.status_code in (200, 303) else "?"
    )
    assert outcome == expected(case, who), (
        f"{case.method} {case.path(people)} as {who}: {response.status_code}\n{body[:400]}"
    )
    if outcome == "403":
        assert "You cannot do this here" in body
        # Every refusal is in the audit log: who asked, for what (issue 14, point 9).
        assert actor is not None
        refusal = audited(session)[-1]
        assert refusal[:3] == (actor.email, "access.refused", f"{case.method} {case.path(people)}")
    if outcome == "401":
        assert "Sign in to continue" in body
