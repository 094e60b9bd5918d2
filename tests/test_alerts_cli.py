"""`pulse alerts`, run as an operator runs it after `pulse publish`: against a local SMTP sink and webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from pulse.cli import cli
from pulse.models import AlertSubscription, AuditEvent, Role, SentAlert
from pulse.services import accounts, structure
from tests.services.test_alerts import Inbox, Receiver, seed_concern, smtp_sink, webhook_receiver

PUBLIC_URL = "https://pulse.example.nhs.uk"


@pytest.fixture
def sink() -> Iterator[tuple[Inbox, int]]:
    with smtp_sink() as found:
        yield found


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def run(app, database_url: str, sink):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {
        "PULSE_DATABASE_URL": database_url,
        "PULSE_ENV": "test",
        "PULSE_PUBLIC_URL": PUBLIC_URL,
        "PULSE_SMTP_HOST": "127.0.0.1",
        "PULSE_SMTP_PORT": str(sink[1]),
        "PULSE_SMTP_SECURITY": "none",
        "PULSE_SMTP_FROM": "pulse@example.nhs.uk",
    }

    def invoke(*args: str, **extra_env: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={**env, **extra_env}, catch_exceptions=False)

    return invoke


@pytest.fixture
def department_id(session) -> int:  # type: ignore[no-untyped-def]
    org = seed_concern(session)
    accounts.create_user(
        session, email="manager@example.nhs.uk", name="Mo", role=Role.MANAGER, departments=[org.department]
    )
    session.commit()
    return org.department.id


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.rollback()  # end the read snapshot so the next read sees the command's commits
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_subscribe_then_alerts_sends_once_by_email_and_webhook(
    run, session, sink, hooks, department_id: int
) -> None:
    inbox, _port = sink
    subscribed = run(
        "alerts", "subscribe", "Manager@Example.nhs.uk", str(department_id), "--webhook", hooks.url
    )
    assert subscribed.exit_code == 0, subscribed.output
    assert "by email and webhook" in subscribed.output
    listing = run("alerts", "list").output
    assert f"{department_id}\tEmergency Department\tmanager@example.nhs.uk\temail + webhook" in listing

    dry = run("alerts", "--dry-run")
    assert dry.exit_code == 0 and "Would send: Emergency Department, week of 9 November 2026" in dry.output
    assert inbox.messages == [] and hooks.bodies == [] and count(session, SentAlert) == 0

    sent = run("alerts")
    assert sent.exit_code == 0, sent.output
    assert "Sent: Emergency Department, week of 9 November 2026 (net_score, percent_red)" in sent.output
    assert "Alerts: 1 sent, 0 skipped, 0 failed." in sent.output
    assert len(inbox.messages) == 1 and len(hooks.bodies) == 1
    assert f"{PUBLIC_URL}/dashboard/department/{department_id}" in inbox.messages[0].get_content()

    again = run("alerts", "run")
    assert again.exit_code == 0 and "Alerts: 0 sent, 1 skipped, 0 failed." in again.output
    assert len(inbox.messages) == 1 and len(hooks.bodies) == 1


def test_a_failed_delivery_exits_1_and_is_sent_next_run(run, sink, department_id: int) -> None:
    inbox, _port = sink
    run("alerts", "subscribe", "manager@example.nhs.uk", str(department_id))
    inbox.refuse = True
    failed = run("alerts")
    assert failed.exit_code == 1
    assert "FAILED: Emergency Department" in failed.output and "will try again next run" in failed.output
    assert "1 alert(s) could not be delivered" in failed.output

    inbox.refuse = False
    assert run("alerts").exit_code == 0 and len(inbox.messages) == 1


def test_subscribe_refuses_what_it_cannot_do(run, session, department_id: int) -> None:
    other = structure.add_department(session, "Maternity")
    session.commit()
    not_theirs = run("alerts", "subscribe", "manager@example.nhs.uk", str(other.id))
    assert not_theirs.exit_code == 1 and "manager of Maternity" in not_theirs.output
    plain_http = run(
        "alerts",
        "subscribe",
        "manager@example.nhs.uk",
        str(department_id),
        "--webhook",
        "http://chat.example",
    )
    assert plain_http.exit_code == 1 and "https://" in plain_http.output
    nothing = run("alerts", "subscribe", "manager@example.nhs.uk", str(department_id), "--no-email")
    assert nothing.exit_code == 1 and "email, a webhook, or both" in nothing.output
    assert run("alerts", "subscribe", "nobody@example.nhs.uk", str(department_id)).exit_code == 1
    assert run("alerts", "subscribe", "manager@example.nhs.uk", "9999").exit_code == 1
    assert count(session, AlertSubscription) == 0


def test_unsubscribe_stops_alerts_and_both_are_audited(run, session, sink, department_id: int) -> None:
    inbox, _port = sink
    assert run("alerts", "subscribe", "manager@example.nhs.uk", str(department_id)).exit_code == 0
    gone = run("alerts", "unsubscribe", "manager@example.nhs.uk", str(department_id))
    assert gone.exit_code == 0 and "will no longer hear of Emergency Department" in gone.output
    assert run("alerts", "unsubscribe", "manager@example.nhs.uk", str(department_id)).exit_code == 1
    assert "Alerts: 0 sent, 0 skipped, 0 failed." in run("alerts").output and inbox.messages == []
    session.rollback()
    events = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert events == ["alert_subscription.create", "alert_subscription.delete"]
