"""Alerts: a special cause of concern in published figures reaches each subscriber once, by email and webhook.

A local SMTP sink (aiosmtpd) and a local webhook receiver (werkzeug) stand in for the organisation's mail
server and chat tool, so every test checks what actually arrived.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pulse import published, stats
from pulse.models import Action, Level, Role, SentAlert, User
from pulse.services import accounts
from pulse.services.errors import InvalidInput
from pulse.services.followup import SmtpSettings, alerts
from pulse.services.followup import subscriptions as alert_subscriptions
from pulse.services.publication import publish_week
from tests.factories import Org, add_week, make_org

K = 5
TODAY = dt.date(2026, 11, 18)  # the test clock's Wednesday
LATEST = dt.date(2026, 11, 9)  # the latest closed week
WEEKS = [LATEST - dt.timedelta(weeks=12 - i) for i in range(13)]
# Twelve ordinary weeks of 20 ratings (net score 50 to 65, 5 to 15% red) ...
STEADY = [(2, 4, 14), (3, 4, 13), (2, 5, 13), (2, 3, 15), (3, 3, 14), (2, 4, 14)] * 2
DROP = (12, 4, 4)  # ... then a sharp fall: net score -40, 60% red
PUBLIC_URL = "https://pulse.example.nhs.uk"


# --- A local SMTP sink and webhook receiver -----------------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler: keeps each message, or refuses them all while `refuse` is set."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.3.0 Mail system unavailable (test)"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on 127.0.0.1 (plain SMTP, like a local relay) that keeps what it is sent."""
    inbox = Inbox()
    # aiosmtpd checks it is up by connecting to the given port, so it cannot take port 0 itself.
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@dataclass
class Receiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 204
    release: threading.Event | None = None  # when set, each request waits for it before answering


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A chat tool's incoming webhook on 127.0.0.1: keeps each JSON body and answers `status`."""
    receiver = Receiver(url="")

    @Request.application
    def application(request: Request) -> Response:
        receiver.bodies.append(json.loads(request.get_data()))
        if receiver.release is not None:
            receiver.release.wait(timeout=30)
        return Response(status=receiver.status)

    server = make_server("127.0.0.1", 0, application, threaded=True)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/T000/secret"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


# --- Published weeks ----------------------------------------------------------------------------------------


def publish_weeks(session: Session, org: Org, weeks: list[tuple[int, int, int, int] | None]) -> None:
    """Publish the 13 weeks up to LATEST with the department's one team rating (red, amber, green, people)."""
    for week, figures in zip(WEEKS, weeks, strict=True):
        if figures is not None:
            add_week(session, org, week, {0: figures})
        assert publish_week(session, week, k=K, today=TODAY)
        session.commit()


def steady(n: int = 12) -> list[tuple[int, int, int, int] | None]:
    return [(*colours, 20) for colours in STEADY[:n]]


def seed_concern(session: Session) -> Org:
    """A department whose latest published week is a special cause of concern on both measures."""
    org = make_org(session, teams=1)
    publish_weeks(session, org, [*steady(), (*DROP, 20)])
    return org


def add_manager(session: Session, org: Org, email: str = "manager@example.nhs.uk", **extra: Any) -> User:
    user = accounts.create_user(
        session, email=email, name="Mo Manager", role=Role.MANAGER, departments=[org.department]
    )
    alert_subscriptions.subscribe(session, user, org.department, **extra)
    session.commit()
    return user


def sent_alerts(session: Session) -> list[tuple[dt.date, str]]:
    session.rollback()  # end the read snapshot so the next read sees the commits of the run
    return list(session.execute(select(SentAlert.week_start, SentAlert.measure).order_by(SentAlert.measure)))


# --- Fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, SmtpSettings]]:
    with smtp_sink() as (inbox, port):
        yield inbox, SmtpSettings("127.0.0.1", port, security="none", sender="pulse@example.nhs.uk")


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


def run(session: Session, smtp: SmtpSettings | None) -> alerts.AlertReport:
    return alerts.send_alerts(session, smtp=smtp, public_url=PUBLIC_URL)


# --- Tests --------------------------------------------------------------------------------------------------


def test_a_seeded_concern_is_sent_once_by_email_and_by_webhook(session, inbox, hooks) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    add_manager(session, org, webhook_url=hooks.url)

    report = run(session, smtp)

    assert [o.detail for o in report.sent] == ["by email, by webhook"]
    assert report.failed == [] and report.skipped == []
    assert len(box.messages) == 1 and len(hooks.bodies) == 1
    message = box.messages[0]
    assert message["To"] == "manager@example.nhs.uk" and message["From"] == "pulse@example.nhs.uk"
    assert message["Subject"] == (
        "Pulse: special cause of concern in Emergency Department (week of 9 November 2026)"
    )
    body = message.get_content()
    assert (
        "Net score. Special cause of concern: a point below the lower process limit in the week of " in body
    )
    assert (
        "Share of tough shifts (% red). Special cause of concern: a point above the upper process limit"
        in body
    )
    assert (
        "net score -40.0 (% green minus % red), 60.0% red, 20.0% amber, 20.0% green, from 20 ratings." in body
    )
    assert f"{PUBLIC_URL}/dashboard/department/{org.department.id}" in body
    assert "These are the published figures that everyone can see" in body

    payload = hooks.bodies[0]
    assert payload["text"].startswith("Pulse: special cause of concern in Emergency Department")
    assert payload["department"] == {"id": org.department.id, "name": "Emergency Department"}
    assert payload["week_start"] == "2026-11-09" and payload["iso_week"] == "2026-W46"
    assert [m["measure"] for m in payload["measures"]] == ["net_score", "percent_red"]
    assert payload["figures"] == {
        "net_score": -40.0,
        "pct_red": 60.0,
        "pct_amber": 20.0,
        "pct_green": 20.0,
        "ratings": 20,
    }
    assert payload["url"] == f"{PUBLIC_URL}/dashboard/department/{org.department.id}"
    assert sent_alerts(session) == [(LATEST, "net_score"), (LATEST, "percent_red")]

    again = run(session, smtp)
    assert again.sent == [] and [o.detail for o in again.skipped] == ["already sent"]
    assert len(box.messages) == 1 and len(hooks.bodies) == 1


def test_each_subscriber_gets_their_own_alert_once(session, inbox) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    add_manager(session, org, "one@example.nhs.uk")
    add_manager(session, org, "two@example.nhs.uk")
    assert len(run(session, smtp).sent) == 2
    assert sorted(m["To"] for m in box.messages) == ["one@example.nhs.uk", "two@example.nhs.uk"]


def test_a_hidden_department_sends_nothing(session, inbox, hooks) -> None:
    box, smtp = inbox
    org = make_org(session, teams=1)
    # The last week's ratings would be a sharp fall, but 3 people are fewer than k: the week is not published.
    publish_weeks(session, org, [*steady(), (2, 0, 1, 3)])
    add_manager(session, org, webhook_url=hooks.url)

    report = run(session, smtp)

    assert report == alerts.AlertReport()
    assert box.messages == [] and hooks.bodies == [] and sent_alerts(session) == []


def test_a_week_without_ratings_sends_nothing(session, inbox) -> None:
    box, smtp = inbox
    org = make_org(session, teams=1)
    publish_weeks(session, org, [*steady(), None])
    add_manager(session, org)
    assert run(session, smtp) == alerts.AlertReport() and box.messages == []


def test_common_cause_variation_sends_nothing(session, inbox) -> None:
    box, smtp = inbox
    org = make_org(session, teams=1)
    publish_weeks(session, org, [*steady(), (3, 3, 14, 20)])
    add_manager(session, org)
    assert run(session, smtp) == alerts.AlertReport() and box.messages == []


def test_an_improvement_sends_nothing(session, inbox) -> None:
    box, smtp = inbox
    org = make_org(session, teams=1)
    publish_weeks(session, org, [*steady(), (0, 0, 20, 20)])
    add_manager(session, org)
    assert run(session, smtp) == alerts.AlertReport() and box.messages == []


def test_a_rebase_restarts_the_limits(session, inbox) -> None:
    box, smtp = inbox
    org = make_org(session, teams=1)
    # A low latest week: below the old limits, but the first point of a new process once they restart there.
    publish_weeks(session, org, [*steady(), (*DROP, 20)])
    session.add(Action(department=org.department, taken_on=WEEKS[12], summary="New rota", rebase=True))
    add_manager(session, org)
    assert run(session, smtp) == alerts.AlertReport() and box.messages == []

    withdrawn = session.scalars(select(Action)).one()
    withdrawn.withdrawn = True
    session.commit()
    assert len(run(session, smtp).sent) == 1 and len(box.messages) == 1


def test_deactivated_accounts_and_former_managers_are_passed_over(session, inbox) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    inactive = add_manager(session, org, "inactive@example.nhs.uk")
    moved = add_manager(session, org, "moved@example.nhs.uk")
    admin = accounts.create_user(session, email="admin@example.nhs.uk", name="Ada Admin", role=Role.ADMIN)
    alert_subscriptions.subscribe(session, admin, org.department)
    inactive.active = False
    moved.departments = []
    session.commit()

    report = run(session, smtp)

    assert [o.recipient for o in report.sent] == ["admin@example.nhs.uk"]
    assert [m["To"] for m in box.messages] == ["admin@example.nhs.uk"]
    assert sorted((o.recipient, o.detail) for o in report.skipped) == [
        ("inactive@example.nhs.uk", "the account is deactivated"),
        ("moved@example.nhs.uk", "no longer a manager of this department"),
    ]


def test_a_refused_email_records_nothing_and_is_sent_next_run(session, inbox) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    add_manager(session, org)
    box.refuse = True

    report = run(session, smtp)

    assert report.sent == [] and len(report.failed) == 1
    assert "email to manager@example.nhs.uk" in report.failed[0].detail
    assert "will try again next run" in report.failed[0].detail
    assert sent_alerts(session) == []

    box.refuse = False
    assert len(run(session, smtp).sent) == 1 and len(box.messages) == 1
    assert len(sent_alerts(session)) == 2


def test_an_unreachable_mail_server_is_a_failure(session) -> None:
    org = seed_concern(session)
    add_manager(session, org)
    report = run(session, SmtpSettings("127.0.0.1", free_port(), security="none"))
    assert len(report.failed) == 1 and sent_alerts(session) == []


def test_a_failing_webhook_records_nothing_and_hides_its_secret(session, hooks) -> None:
    org = seed_concern(session)
    add_manager(session, org, by_email=False, webhook_url=hooks.url)
    hooks.status = 500

    report = run(session, None)

    assert len(report.failed) == 1 and len(hooks.bodies) == 1
    assert "the receiver answered 500" in report.failed[0].detail
    assert "secret" not in report.failed[0].detail  # the webhook's path is its password
    assert sent_alerts(session) == []

    hooks.status = 200
    assert len(run(session, None).sent) == 1 and len(hooks.bodies) == 2


def test_email_only_without_smtp_settings_fails_until_they_are_set(session, inbox) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    add_manager(session, org)
    report = run(session, None)
    assert "PULSE_SMTP_HOST" in report.failed[0].detail and sent_alerts(session) == []
    assert len(run(session, smtp).sent) == 1 and len(box.messages) == 1


def test_a_dry_run_sends_and_records_nothing(session, inbox) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    add_manager(session, org)
    report = alerts.send_alerts(session, smtp=smtp, public_url=PUBLIC_URL, dry_run=True)
    assert [o.recipient for o in report.due] == ["manager@example.nhs.uk"] and report.sent == []
    assert box.messages == [] and sent_alerts(session) == []


def test_an_alert_claimed_by_another_run_is_not_sent_again(session, inbox) -> None:
    box, smtp = inbox
    org = seed_concern(session)
    add_manager(session, org)
    stale, _ = alerts.due_alerts(session, alerts.find_concerns(session))
    session.rollback()
    assert len(run(session, smtp).sent) == 1  # another run sends it after this one decided it was due

    outcome, status = alerts.deliver(session, stale[0], smtp=smtp, public_url=PUBLIC_URL)

    assert status == "skipped" and outcome.detail == "already sent by another run"
    assert len(box.messages) == 1


@pytest.mark.postgres
def test_two_runs_at_once_send_one_alert(app, session, hooks) -> None:
    org = seed_concern(session)
    add_manager(session, org, by_email=False, webhook_url=hooks.url)
    hooks.release = threading.Event()
    factory = app.extensions["pulse"].write_session_factory
    reports: list[alerts.AlertReport] = []

    def run_alone() -> None:
        with factory() as own:
            reports.append(run(own, None))

    first = threading.Thread(target=run_alone)
    first.start()
    wait_for(lambda: len(hooks.bodies) == 1)  # the first run has claimed the alert and is sending it
    second = threading.Thread(target=run_alone)
    second.start()
    # The second run's claim waits on the first run's uncommitted row.
    wait_for(lambda: waiting_on_a_lock(session) == 1)
    hooks.release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert len(hooks.bodies) == 1
    assert sorted(len(r.sent) for r in reports) == [0, 1]
    assert [o.detail for r in reports for o in r.skipped] == ["already sent by another run"]
    assert len(sent_alerts(session)) == 2


def waiting_on_a_lock(session: Session) -> int:
    session.rollback()  # PostgreSQL shows the activity of other sessions as of the start of a transaction
    query = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    return int(session.scalar(text(query)) or 0)


def wait_for(condition: Any, timeout: float = 20) -> None:
    """Poll until `condition()` holds: the test waits for a state, not for a length of time."""
    event = threading.Event()
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=timeout)
    while not condition():
        assert dt.datetime.now(dt.UTC) < deadline, "timed out"
        event.wait(0.02)


# --- Subscriptions and the message itself -------------------------------------------------------------------


def test_subscribe_checks_the_account_the_channels_and_the_address(session) -> None:
    org = make_org(session, teams=1)
    manager = add_manager(session, org)
    other = accounts.create_user(session, email="other@example.nhs.uk", name="O", role=Role.MANAGER)
    with pytest.raises(InvalidInput, match="manager of Emergency Department"):
        alert_subscriptions.subscribe(session, other, org.department)
    with pytest.raises(InvalidInput, match="email, a webhook, or both"):
        alert_subscriptions.subscribe(session, manager, org.department, by_email=False)
    with pytest.raises(InvalidInput, match="https://"):
        alert_subscriptions.subscribe(
            session, manager, org.department, webhook_url="http://chat.example.com/hook"
        )
    changed = alert_subscriptions.subscribe(
        session, manager, org.department, by_email=False, webhook_url="https://chat.example.com/hook"
    )
    assert (changed.by_email, changed.webhook_url) == (False, "https://chat.example.com/hook")
    assert len(alert_subscriptions.list_subscriptions(session)) == 1  # changed, not added
    assert alert_subscriptions.unsubscribe(session, manager, org.department)
    assert not alert_subscriptions.unsubscribe(session, manager, org.department)
    assert session.scalar(select(func.count()).select_from(SentAlert)) == 0


def test_the_message_holds_published_figures_only(session) -> None:
    org = seed_concern(session)
    concern = alerts.find_concerns(session)  # no subscription yet: no department is looked at
    assert concern == {}
    add_manager(session, org)
    concern = alerts.find_concerns(session)[org.department.id]
    values = [60.0, 50.0, 55.0, 65.0, 55.0, 60.0] * 2 + [-40.0]
    chart = stats.xmr_chart(values, "up")
    assert concern.readings["net_score"] == stats.describe(chart, WEEKS)
    assert concern.figures == {
        "net_score": -40.0,
        "pct_red": 60.0,
        "pct_amber": 20.0,
        "pct_green": 20.0,
        "ratings": 20,
    }
    assert "contributors" not in concern.figures  # published, but an alert has no need of it


def test_a_signal_that_goes_on_is_not_sent_again_the_next_week(session, inbox) -> None:
    """Two low weeks in a row: the second is still a special cause of concern, but not a new one."""
    box, smtp = inbox
    org = make_org(session, teams=1)
    publish_weeks(session, org, [*steady(11), (*DROP, 20), (*DROP, 20)])
    add_manager(session, org)
    series = published.weekly_series(session, Level.DEPARTMENT, org.department.id, WEEKS[0], WEEKS[-1])
    chart = stats.xmr_chart([week["net_score"] for week in series], "up")
    assert chart.points[-1].variation == "special_cause_concern", "the latest week is still a concern"
    assert chart.points[-2].variation == "special_cause_concern", "and so was the week before"
    report = run(session, smtp)
    assert report.sent == [] and box.messages == [] and sent_alerts(session) == []
