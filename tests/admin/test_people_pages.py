"""People and the audit log: accounts are created, scoped and deactivated by administrators only, every change
is audited without a password, and nobody can lock themselves or the organisation out."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from pulse.models import AuditEvent, Role, User
from pulse.runtime import db_session
from pulse.services import accounts
from pulse.services.accounts import record_change
from tests.admin.conftest import PASSWORD, People, audited, csrf_token, fresh, post, sign_in

NEW_PASSWORD = "a long and private passphrase"


def account(session: Session, email: str) -> User:
    fresh(session)
    return session.scalars(select(User).where(User.email == email)).one()


def refused_field(response: TestResponse, field: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:500]
    assert f'id="{field}-error"' in page
    assert f'href="#{field}"' in page
    assert f'id="{field}"' in page
    return page


@pytest.fixture
def admin_client(client: FlaskClient, people: People) -> FlaskClient:
    sign_in(client, people.admin.email)
    return client


@pytest.fixture
def second_admin(session: Session, people: People) -> User:
    user = accounts.create_user(
        session, email="second@example.nhs.uk", name="Sam Second", role=Role.ADMIN, password=PASSWORD
    )
    session.commit()
    return user


# --- The list and creating accounts -------------------------------------------------------------------------


def test_the_list_shows_every_account_without_secrets(admin_client: FlaskClient, people: People) -> None:
    page = admin_client.get("/admin/users").get_data(as_text=True)
    for text in (
        "Ada Admin",
        "admin@example.nhs.uk",
        "Mo Manager",
        "Emergency Department, Surgery",
        "Olu Other",
    ):
        assert text in page
    assert "argon2" not in page


def test_an_administrator_adds_a_manager_with_departments_and_a_password(
    admin_client: FlaskClient, app: Flask, people: People, session: Session
) -> None:
    response = post(
        admin_client,
        "/admin/users",
        email=" New.Manager@Example.NHS.uk ",
        name="Nia New",
        role="manager",
        password=NEW_PASSWORD,
        department_ids=[str(people.other_department.id), str(people.second_department.id)],
    )
    assert response.status_code == 303
    created = account(session, "new.manager@example.nhs.uk")
    assert response.location.endswith(f"/admin/users/{created.id}?done=created")
    assert (created.name, created.role, created.active) == ("Nia New", Role.MANAGER, True)
    assert [d.name for d in created.departments] == ["Maternity", "Surgery"]
    assert audited(session) == [
        (
            people.admin.email,
            "user.create",
            "new.manager@example.nhs.uk",
            {"role": "manager", "departments": ["Maternity", "Surgery"], "sign_in": "password"},
        )
    ]
    event = session.scalars(select(AuditEvent)).one()
    assert NEW_PASSWORD not in f"{event.target} {event.detail}"
    assert NEW_PASSWORD not in admin_client.get(response.location).get_data(as_text=True)
    sign_in(app.test_client(), "new.manager@example.nhs.uk", NEW_PASSWORD)


def test_an_account_without_a_password_signs_in_only_through_single_sign_on(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    response = post(
        admin_client, "/admin/users", email="sso@example.nhs.uk", name="Sol", role="admin", password=""
    )
    assert response.status_code == 303
    created = account(session, "sso@example.nhs.uk")
    assert created.password_hash is None and created.role == Role.ADMIN
    assert audited(session)[0][3] == {"role": "admin", "departments": [], "sign_in": "single sign-on"}
    assert "Single sign-on only" in admin_client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email", "name": "X", "role": "manager"}, "new-email"),
        ({"email": "MANAGER@example.nhs.uk", "name": "X", "role": "manager"}, "new-email"),  # already exists
        ({"email": "x@example.nhs.uk", "name": "", "role": "manager"}, "new-name"),
        ({"email": "x@example.nhs.uk", "name": "X", "role": "owner"}, "new-role"),
        (
            {"email": "x@example.nhs.uk", "name": "X", "role": "manager", "department_ids": "99999"},
            "new-department_ids",
        ),
        (
            {"email": "x@example.nhs.uk", "name": "X", "role": "manager", "password": "too-short"},
            "new-password",
        ),
    ],
)
def test_bad_accounts_are_refused_beside_the_field_and_the_password_is_never_sent_back(
    admin_client: FlaskClient, people: People, session: Session, data: dict[str, str], field: str
) -> None:
    data = {"password": "", **data}
    page = refused_field(post(admin_client, "/admin/users", **data), field)
    if data["password"]:
        assert data["password"] not in page
    if data["email"] == "x@example.nhs.uk":
        assert 'value="x@example.nhs.uk"' in page  # what was typed is kept
    fresh(session)
    assert len(accounts.list_users(session)) == 3
    assert audited(session) == []


# --- Departments --------------------------------------------------------------------------------------------


def test_an_administrator_changes_a_managers_departments(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    manager = people.other_manager
    assert "Maternity" in admin_client.get(f"/admin/users/{manager.id}").get_data(as_text=True)
    ids = [str(people.org.department.id), str(people.second_department.id)]
    response = post(admin_client, f"/admin/users/{manager.id}/departments", department_ids=ids)
    assert response.status_code == 303
    assert [d.name for d in account(session, manager.email).departments] == [
        "Emergency Department",
        "Surgery",
    ]
    assert audited(session) == [
        (
            people.admin.email,
            "user.set_departments",
            manager.email,
            {"before": ["Maternity"], "after": ["Emergency Department", "Surgery"]},
        )
    ]
    # Unticking every box leaves them none.
    assert post(admin_client, f"/admin/users/{manager.id}/departments").status_code == 303
    assert account(session, manager.email).departments == []


def test_departments_are_refused_for_administrators_and_unknown_departments(
    admin_client: FlaskClient, people: People, session: Session, second_admin: User
) -> None:
    ids = [str(people.org.department.id)]
    refused_field(
        post(admin_client, f"/admin/users/{second_admin.id}/departments", department_ids=ids),
        "department_ids",
    )
    unknown = post(admin_client, f"/admin/users/{people.manager.id}/departments", department_ids=["99999"])
    refused_field(unknown, "department_ids")
    assert [d.name for d in account(session, people.manager.email).departments] == [
        "Emergency Department",
        "Surgery",
    ]
    assert audited(session) == []
    assert post(admin_client, "/admin/users/99999/departments", department_ids=ids).status_code == 404


def test_an_administrator_cannot_change_their_own_departments(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    response = post(admin_client, f"/admin/users/{people.admin.id}/departments", department_ids=[])
    assert response.status_code == 403
    assert "ask another administrator" in response.get_data(as_text=True)
    reason = "You cannot change your own role or departments; ask another administrator."
    path = f"/admin/users/{people.admin.id}/departments"
    assert audited(session) == [(people.admin.email, "access.refused", f"POST {path}", {"reason": reason})]


# --- Deactivating -------------------------------------------------------------------------------------------


def test_a_deactivated_managers_session_ends_at_its_next_request(
    admin_client: FlaskClient, app: Flask, people: People, session: Session
) -> None:
    manager_client = app.test_client()
    sign_in(manager_client, people.manager.email)
    assert manager_client.get("/admin/").status_code == 200

    response = post(admin_client, f"/admin/users/{people.manager.id}/active", active="false")
    assert response.status_code == 303
    assert manager_client.get("/admin/").status_code == 401
    refused = manager_client.post(
        "/admin/login",
        data={"email": people.manager.email, "password": PASSWORD, "csrf_token": csrf_token(manager_client)},
    )
    assert refused.status_code == 401
    assert not account(session, people.manager.email).active

    assert post(admin_client, f"/admin/users/{people.manager.id}/active", active="true").status_code == 303
    assert account(session, people.manager.email).active
    sign_in(manager_client, people.manager.email)
    assert [(actor, action, target) for actor, action, target, _ in audited(session)] == [
        (people.admin.email, "user.deactivate", people.manager.email),
        (people.admin.email, "user.reactivate", people.manager.email),
    ]


def test_a_deactivated_administrators_session_ends_too(
    admin_client: FlaskClient, app: Flask, people: People, second_admin: User
) -> None:
    other = app.test_client()
    sign_in(other, second_admin.email)
    assert other.get("/admin/users").status_code == 200
    assert post(admin_client, f"/admin/users/{second_admin.id}/active", active="false").status_code == 303
    assert other.get("/admin/users").status_code == 401


def test_an_administrator_cannot_deactivate_themselves(
    admin_client: FlaskClient, people: People, session: Session, second_admin: User
) -> None:
    response = post(admin_client, f"/admin/users/{people.admin.id}/active", active="false")
    assert response.status_code == 403
    assert account(session, people.admin.email).active
    assert [action for _, action, _, _ in audited(session)] == ["access.refused"], (
        "refused, and nothing changed"
    )
    assert admin_client.get("/admin/users").status_code == 200  # still signed in


@pytest.mark.own_app  # it adds a request hook
def test_two_administrators_deactivating_each_other_at_once_leave_one(
    app: Flask, client: FlaskClient, people: People, session: Session, second_admin: User
) -> None:
    """Sam deactivates Ada while Ada's request to deactivate Sam is under way: Ada's request is refused."""
    racing = {"on": False}

    @app.before_request
    def sam_deactivates_ada_meanwhile() -> None:
        if racing["on"] and request.method == "POST":
            assert current_user.is_authenticated  # Ada is signed in and active as her request starts
            with app.extensions["pulse"].write_session_factory() as other:
                other.get(User, people.admin.id).active = False  # type: ignore[union-attr]
                other.commit()
            db_session().commit()  # what a concurrent request sees once it waits for the rows it locks

    sign_in(client, people.admin.email)
    racing["on"] = True
    response = post(client, f"/admin/users/{second_admin.id}/active", active="false")
    racing["on"] = False
    page = refused_field(response, "active")
    assert "last active administrator" in page
    assert account(session, second_admin.email).active
    assert audited(session) == []


def test_the_last_active_administrator_is_kept_by_the_service(
    session: Session, people: People, second_admin: User
) -> None:
    stale_actor = people.admin  # loaded while still active, as a request racing its own deactivation holds it
    with Session(session.get_bind()) as other:
        other.get(User, people.admin.id).active = False  # type: ignore[union-attr]
        other.commit()
    with pytest.raises(accounts.AccountError, match="last active administrator"):
        accounts.set_user_active(session, stale_actor, second_admin, False)
    session.rollback()
    assert account(session, second_admin.email).active


# --- The audit log ------------------------------------------------------------------------------------------


def test_the_audit_log_is_newest_first_in_local_time(
    admin_client: FlaskClient, people: People, session: Session
) -> None:
    first = record_change(session, people.admin, "team.rotate_join_code", "Team 1")
    first.at = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)  # 10:30 in London (summer time)
    second = record_change(session, people.admin, "settings.minimum_group_size", "k", before=5, after=12)
    second.at = dt.datetime(2026, 12, 1, 9, 45, tzinfo=dt.UTC)  # 09:45 in London (winter)
    session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "This log records every privileged change. It never records anything about ratings." in page
    assert page.index("Changed the minimum group size") < page.index("Replaced a team&#39;s rating link")
    assert "Wed 01 Jul 2026, 10:30:00" in page
    assert "Tue 01 Dec 2026, 09:45:00" in page
    assert "before: 5; after: 12" in page


def test_the_audit_log_pages_by_200(admin_client: FlaskClient, people: People, session: Session) -> None:
    events = [record_change(session, people.admin, "team.update", f"Team {i:03d}") for i in range(205)]
    session.commit()
    newest = admin_client.get("/admin/audit").get_data(as_text=True)
    assert newest.count("<time ") == 200
    assert "Team 204" in newest and "Team 005" in newest and "Team 004" not in newest
    older_link = f'href="/admin/audit?before={events[5].id}"'
    assert older_link in newest
    older = admin_client.get(f"/admin/audit?before={events[5].id}").get_data(as_text=True)
    assert older.count("<time ") == 5
    assert "Team 004" in older and "Team 000" in older and "Older changes" not in older


# --- Who may ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("manager", 403), ("anonymous", 401)])
def test_only_administrators_may_use_these_pages(
    client: FlaskClient, people: People, session: Session, who: str, status: int
) -> None:
    if who == "manager":
        sign_in(client, people.manager.email)
    target = people.other_manager
    for path in ("/admin/users", f"/admin/users/{target.id}", "/admin/audit"):
        assert client.get(path).status_code == status, path
    for path, data in [
        (
            "/admin/users",
            {"email": "x@example.nhs.uk", "name": "X", "role": "admin", "password": NEW_PASSWORD},
        ),
        (f"/admin/users/{target.id}/departments", {"department_ids": [str(people.org.department.id)]}),
        (f"/admin/users/{target.id}/active", {"active": "false"}),
    ]:
        assert post(client, path, **data).status_code == status, path
    assert len(accounts.list_users(session)) == 3
    assert [d.name for d in account(session, target.email).departments] == ["Maternity"]
    assert account(session, target.email).active
    # Nothing changed; each refusal of a signed-in manager is in the audit log, with what was asked.
    refusals = [(who_, action) for who_, action, _, _ in audited(session)]
    assert refusals == ([(people.manager.email, "access.refused")] * 6 if who == "manager" else [])
