""" "You said, we did": a manager records an action on their department's timeline; everyone can read it."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse import published
from pulse.models import Action, AuditEvent
from tests.admin.conftest import People, csrf_token, sign_in


def post(client: FlaskClient, path: str, data: dict) -> object:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/admin/")})


def test_a_manager_records_an_action_everyone_can_read(
    client: FlaskClient, people: People, session: Session
) -> None:
    sign_in(client, people.manager.email)
    tags = people.org.tags
    response = post(
        client,
        f"/admin/departments/{people.org.department.id}/actions",
        {
            "taken_on": "2026-11-16",
            "summary": "  Protected   breaks on every shift. ",
            "reason_ids": [str(tags[0].id), str(tags[2].id)],
            "rebase": "true",
        },
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    session.rollback()
    shown = published.actions(session, people.org.department.id)
    assert [a["summary"] for a in shown] == [
        "A second healthcare assistant on nights.",
        "Protected breaks on every shift.",
    ]
    latest = shown[-1]
    assert latest["taken_on"] == dt.date(2026, 11, 16) and latest["week_start"] == dt.date(2026, 11, 16)
    assert latest["rebase"] is True and latest["reasons"] == sorted([tags[0].label, tags[2].label])
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "action.record")).one()
    assert event.actor == people.manager.email
    page = client.get(f"/admin/departments/{people.org.department.id}/actions").get_data(as_text=True)
    assert "Protected breaks on every shift." in page and "limits start again" in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"taken_on": "2026-11-19", "summary": "Tomorrow's plan"}, "taken_on"),  # the clock is 18 November
        ({"taken_on": "18/11/2026", "summary": "A date in another format"}, "taken_on"),
        ({"taken_on": "2026-11-16", "summary": "   "}, "summary"),
        ({"taken_on": "2026-11-16", "summary": "x" * 281}, "summary"),
        ({"taken_on": "2026-11-16", "summary": "Unknown reason", "reason_ids": ["99999"]}, "reasons"),
    ],
)
def test_a_refused_action_says_why(
    client: FlaskClient, people: People, session: Session, data: dict, field: str
) -> None:
    sign_in(client, people.manager.email)
    response = post(client, f"/admin/departments/{people.org.department.id}/actions", data)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert f'href="#{field}"' in response.get_data(as_text=True)  # type: ignore[attr-defined]
    session.rollback()
    assert len(session.scalars(select(Action)).all()) == 1, "only the fixture's action"


def test_a_withdrawn_action_leaves_the_charts(client: FlaskClient, people: People, session: Session) -> None:
    sign_in(client, people.manager.email)
    assert post(client, f"/admin/actions/{people.action_id}/withdraw", {}).status_code == 303  # type: ignore[attr-defined]
    session.rollback()
    assert published.actions(session, people.org.department.id) == []
    assert session.get(Action, people.action_id) is not None, "kept, withdrawn"


def test_another_departments_manager_cannot_touch_the_timeline(
    client: FlaskClient, people: People, session: Session
) -> None:
    sign_in(client, people.other_manager.email)
    assert post(client, f"/admin/actions/{people.action_id}/withdraw", {}).status_code == 403  # type: ignore[attr-defined]
    record = post(
        client,
        f"/admin/departments/{people.org.department.id}/actions",
        {"taken_on": "2026-11-16", "summary": "Not mine to record"},
    )
    assert record.status_code == 403  # type: ignore[attr-defined]
    session.rollback()
    assert len(published.actions(session, people.org.department.id)) == 1
