"""Accounts for admin-area tests, and signing in through the real form (with its CSRF token)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from pulse.models import AuditEvent, Department, Role, User
from pulse.services import structure
from pulse.services.accounts import users as accounts
from pulse.services.followup import record_action
from tests.factories import Org, make_org

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class People:
    org: Org
    other_department: Department  # managed by other_manager only
    second_department: Department  # also managed by manager
    admin: User
    manager: User  # manages org.department and second_department
    other_manager: User  # manages other_department only
    action_id: int  # an action on org.department's timeline
    staff_id: int = 0  # a member of staff on org.team's roster, with an enrolment code and an enrolled phone
    code_id: int = 0
    device_id: int = 0


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost, for speed: the tests check the logic, not the hash's strength."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def people(session: Session) -> People:
    org = make_org(session)
    other = structure.add_department(session, "Maternity")
    structure.add_team(session, other, "Labour Ward", 30)
    second = structure.add_department(session, "Surgery")
    admin = accounts.create_user(
        session, email="admin@example.nhs.uk", name="Ada Admin", role=Role.ADMIN, password=PASSWORD
    )
    manager = accounts.create_user(
        session,
        email="manager@example.nhs.uk",
        name="Mo Manager",
        role=Role.MANAGER,
        password=PASSWORD,
        departments=[org.department, second],
    )
    other_manager = accounts.create_user(
        session,
        email="other@example.nhs.uk",
        name="Olu Other",
        role=Role.MANAGER,
        password=PASSWORD,
        departments=[other],
    )
    action = record_action(
        session,
        department=org.department,
        taken_on=dt.date(2026, 11, 2),
        summary="A second healthcare assistant on nights.",
        recorded_by=manager,
        today=dt.date(2026, 11, 18),
    )
    staff_id, code_id, device_id = _staff_on_roster(session, org)
    session.commit()
    return People(org, other, second, admin, manager, other_manager, action.id, staff_id, code_id, device_id)


def _staff_on_roster(session: Session, org: Org) -> tuple[int, int, int]:
    """A person on org.team with a live code and a phone, written directly so that no audit entry precedes a
    test's own."""
    from pulse.models import EnrolledDevice, EnrolmentCode, StaffMember, roster_entry

    today = dt.date(2026, 11, 18)
    person = StaffMember(identifier="nurse.one@example.nhs.uk", active=True, created_on=today)
    session.add(person)
    session.flush()
    session.execute(roster_entry.insert().values(staff_member_id=person.id, team_id=org.team.id))
    code = EnrolmentCode(
        staff_member_id=person.id,
        code_hash="0" * 64,
        issued_on=today,
        expires_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
        used=False,
        revoked=False,
    )
    device = EnrolledDevice(
        staff_member_id=person.id, credential_hash="1" * 64, enrolled_on=today, revoked=False
    )
    session.add_all([code, device])
    session.flush()
    return person.id, code.id, device.id


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """The CSRF token from a form on `path`, as a browser would send it back."""
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    found = CSRF.search(page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/admin/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.fixture
def signed_in(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """signed_in(user) signs the test client in as `user` and returns it."""

    def as_user(user: User) -> FlaskClient:
        sign_in(client, user.email)
        return client

    return as_user


def post(client: FlaskClient, path: str, **data: object) -> TestResponse:
    """Post a form as the signed-in browser would, with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/admin/login")})


def fresh(session: Session) -> None:
    """Forget what the test's session holds, so that it reads what the requests committed."""
    session.rollback()
    session.expire_all()


def audited(session: Session) -> list[tuple[str, str, str, dict[str, object]]]:
    fresh(session)
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [(e.actor, e.action, e.target, e.detail) for e in events]
