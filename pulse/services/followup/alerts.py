"""Alerts: a new special cause of concern in a department's published weekly figures, sent once to each
subscriber.

Every number in an alert comes from pulse.published, exactly as everyone sees it on the dashboard
(docs/anonymity.md A15): a hidden week is a gap, and a gap never raises an alert.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse import published, stats
from pulse.clock import utcnow
from pulse.models import AlertSubscription, Level, SentAlert
from pulse.services import accounts
from pulse.services.followup.transport import DeliveryError, SmtpSettings, post_webhook, send_email
from pulse.services.sql import insert_for

# The chart behind an alert: the department's latest published year, limits restarting at each rebase.
HISTORY_WEEKS = 52


@dataclass(frozen=True)
class Measure:
    key: str  # as stored in SentAlert.measure
    label: str
    figure: str  # the published figure charted
    direction: Literal["up", "down"]  # which way is better


MEASURES = (
    Measure("net_score", "Net score", "net_score", "up"),
    # Named as on the dashboard's chart (dashboard/spc.py), which draws the same chart from the same weeks.
    Measure("percent_red", "Share of tough shifts (% red)", "pct_red", "down"),
)
FIGURES = ("net_score", "pct_red", "pct_amber", "pct_green", "ratings")


@dataclass(frozen=True)
class Concern:
    """A department whose latest published week is a special cause of concern on one or more measures."""

    department_id: int
    department: str  # its name as published
    week_start: dt.date
    readings: dict[str, str]  # measure key -> the plain-English reading of the chart
    figures: dict[str, Any]  # the week's figures, as published


@dataclass(frozen=True)
class Alert:
    """A concern due to one subscription, for the measures not yet sent to it."""

    subscription_id: int
    recipient: str  # the subscriber's account email, to name them in reports
    email: str | None  # None: not by email
    webhook_url: str | None
    concern: Concern
    measures: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    subscription_id: int
    recipient: str
    department: str
    week_start: dt.date
    measures: tuple[str, ...]
    detail: str = ""

    def describe(self) -> str:
        measures = ", ".join(self.measures)
        text = f"{self.department}, week of {_date(self.week_start)} ({measures}) to {self.recipient}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class AlertReport:
    sent: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    due: list[Outcome] = field(default_factory=list)  # a dry run: what would be sent


# --- Finding concerns ---------------------------------------------------------------------------------------


def find_concerns(session: Session) -> dict[int, Concern]:
    """Each subscribed department whose latest published week is a special cause of concern, by id."""
    weeks = published.published_weeks(session)[-HISTORY_WEEKS:]
    if not weeks:
        return {}
    departments = session.scalars(select(AlertSubscription.department_id).distinct()).all()
    concerns = {}
    for department_id in sorted(departments):
        concern = department_concern(session, department_id, weeks)
        if concern is not None:
            concerns[department_id] = concern
    return concerns


def department_concern(session: Session, department_id: int, weeks: list[dt.date]) -> Concern | None:
    """The concern, if the department's point for the last of `weeks` (published weeks) is one."""
    series = published.weekly_series(session, Level.DEPARTMENT, department_id, weeks[0], weeks[-1])
    latest = series[-1]
    if latest["ratings"] is None:
        return None  # hidden, or no ratings: the two look alike and neither says anything
    dates = [week["week_start"] for week in series]
    rebase_at = sorted(
        {
            dates.index(action["week_start"])
            for action in published.actions(session, department_id)
            if action["rebase"] and action["week_start"] in dates
        }
    )
    readings = {}
    for measure in MEASURES:
        values = [week[measure.figure] for week in series]
        chart = stats.xmr_chart(values, measure.direction, rebase_at=rebase_at)
        # The latest week's own point: chart.variation would fall back to an earlier week after a gap.
        if chart.points[-1].variation != "special_cause_concern":
            continue
        # Only a *new* signal: if the chart as it stood a week ago already ended in concern, it was
        # alerted then (a shift of 7 weeks is flagged at its 7th week, so comparing points alone will not do).
        before = stats.xmr_chart(
            values[:-1], measure.direction, rebase_at=[i for i in rebase_at if i < len(values) - 1]
        )
        earlier = [point for point in before.points if point.value is not None]
        if earlier and earlier[-1].variation == "special_cause_concern":
            continue
        readings[measure.key] = stats.describe(chart, dates)
    if not readings:
        return None
    name = published.unit_name(session, Level.DEPARTMENT, department_id) or f"Department {department_id}"
    figures = {key: latest[key] for key in FIGURES}
    return Concern(department_id, name, latest["week_start"], readings, figures)


def due_alerts(session: Session, concerns: dict[int, Concern]) -> tuple[list[Alert], list[Outcome]]:
    """Alerts not yet sent to the subscriptions of these departments, and the subscriptions passed over."""
    alerts: list[Alert] = []
    skipped: list[Outcome] = []
    subscriptions = session.scalars(
        select(AlertSubscription)
        .where(AlertSubscription.department_id.in_(concerns))
        .order_by(AlertSubscription.id)
    )
    for subscription in subscriptions:
        concern = concerns[subscription.department_id]
        user = accounts.get_user(session, subscription.user_id)
        assert user is not None  # the subscription goes with its account (ON DELETE CASCADE)
        already = set(
            session.scalars(
                select(SentAlert.measure).where(
                    SentAlert.subscription_id == subscription.id, SentAlert.week_start == concern.week_start
                )
            )
        )
        measures = tuple(key for key in concern.readings if key not in already)
        outcome = Outcome(subscription.id, user.email, concern.department, concern.week_start, measures)
        if not user.active:
            skipped.append(dataclasses.replace(outcome, detail="the account is deactivated"))
        elif not accounts.may_act_in(user, subscription.department_id):
            skipped.append(dataclasses.replace(outcome, detail="no longer a manager of this department"))
        elif not measures:
            skipped.append(
                dataclasses.replace(outcome, measures=tuple(concern.readings), detail="already sent")
            )
        else:
            email = user.email if subscription.by_email else None
            alerts.append(
                Alert(subscription.id, user.email, email, subscription.webhook_url, concern, measures)
            )
    return alerts, skipped


# --- Sending ------------------------------------------------------------------------------------------------


def send_alerts(
    session: Session, *, smtp: SmtpSettings | None, public_url: str = "", dry_run: bool = False
) -> AlertReport:
    """Send every due alert once, committing after each delivery (so a later failure resends nothing).

    Unlike other services this one commits: a message that has left cannot be rolled back, so each delivery
    must be settled in the database on its own, right after it is sent. A failed delivery records nothing
    and is tried again on the next run.
    """
    alerts, skipped = due_alerts(session, find_concerns(session))
    report = AlertReport(skipped=skipped)
    session.rollback()  # end the reading transaction: each delivery below is a transaction of its own
    for alert in alerts:
        if dry_run:
            report.due.append(_outcome(alert))
            continue
        outcome, status = deliver(session, alert, smtp=smtp, public_url=public_url)
        getattr(report, status).append(outcome)
    return report


def deliver(
    session: Session, alert: Alert, *, smtp: SmtpSettings | None, public_url: str = ""
) -> tuple[Outcome, Literal["sent", "skipped", "failed"]]:
    """Claim, send, then commit one alert; roll back (and report) if the sending fails.

    Why claim first: the SentAlert row is inserted (ON CONFLICT DO NOTHING) before anything is sent, and
    committed only once the message has gone. A second `pulse alerts` running at the same moment inserts the
    same key: PostgreSQL makes it wait for this transaction, then does nothing if we committed (it skips) or
    inserts if we rolled back (it retries); on SQLite a writing session holds the write lock from its first
    statement, so the runs take turns. Two runs therefore never both send. The price: the transaction (on
    SQLite, the write lock: ratings wait for it, up to the 30-second busy timeout) is held while the message
    goes out, for as long as the 10-second network timeouts allow; and if the process dies after sending but
    before the commit, the alert is sent again next run.
    We prefer an occasional repeat to a lost alert. A subscription with email and a webhook is one delivery:
    if either fails, both are tried again next run.
    """
    if alert.email and smtp is None and not alert.webhook_url:
        return _outcome(alert, "email is not set up (PULSE_SMTP_HOST); will try again next run"), "failed"
    claimed = tuple(measure for measure in alert.measures if _claim(session, alert, measure))
    if not claimed:
        session.rollback()
        return _outcome(alert, "already sent by another run"), "skipped"
    alert = dataclasses.replace(alert, measures=claimed)
    notes = []
    try:
        if alert.email and smtp is not None:
            send_email(smtp, email_message(alert, public_url))
            notes.append("by email")
        elif alert.email:
            notes.append("not by email: email is not set up (PULSE_SMTP_HOST)")
        if alert.webhook_url:
            post_webhook(alert.webhook_url, webhook_payload(alert, public_url))
            notes.append("by webhook")
    except DeliveryError as exc:
        session.rollback()
        return _outcome(alert, f"{exc}; will try again next run"), "failed"
    session.commit()
    return _outcome(alert, ", ".join(notes)), "sent"


def _claim(session: Session, alert: Alert, measure: str) -> bool:
    stmt = (
        insert_for(session, SentAlert)
        .values(
            subscription_id=alert.subscription_id,
            week_start=alert.concern.week_start,
            measure=measure,
            sent_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["subscription_id", "week_start", "measure"])
        .returning(SentAlert.id)
    )
    return session.scalar(stmt) is not None


def _outcome(alert: Alert, detail: str = "") -> Outcome:
    concern = alert.concern
    return Outcome(
        alert.subscription_id, alert.recipient, concern.department, concern.week_start, alert.measures, detail
    )


# --- What an alert says -------------------------------------------------------------------------------------


def department_url(public_url: str, department_id: int) -> str | None:
    return f"{public_url.rstrip('/')}/dashboard/department/{department_id}" if public_url else None


def subject(concern: Concern) -> str:
    return f"Pulse: special cause of concern in {concern.department} (week of {_date(concern.week_start)})"


def summary_lines(alert: Alert) -> list[str]:
    """The readings, then the week's published figures: the whole content of an alert, in plain English."""
    concern, labels = alert.concern, {m.key: m.label for m in MEASURES}
    figures = concern.figures
    lines = [f"{labels[key]}. {concern.readings[key]}" for key in alert.measures]
    lines.append(
        f"The week of {_date(concern.week_start)} as published: net score {figures['net_score']:+.1f} "
        "(% green minus % red), "
        f"{figures['pct_red']:.1f}% red, {figures['pct_amber']:.1f}% amber, "
        f"{figures['pct_green']:.1f}% green, from {figures['ratings']} ratings."
    )
    return lines


def email_message(alert: Alert, public_url: str) -> EmailMessage:
    concern = alert.concern
    url = department_url(public_url, concern.department_id)
    body = [
        f"Pulse has found a special cause of concern in the published figures of {concern.department}.",
        "",
        *summary_lines(alert),
        "",
        f"See the department's charts: {url}" if url else f"See {concern.department} on the Pulse dashboard.",
        "",
        "These are the published figures that everyone can see on the dashboard; an alert never holds more.",
        f"You receive this because you subscribed to alerts for {concern.department}. "
        "A Pulse administrator can stop them (pulse alerts unsubscribe).",
    ]
    message = EmailMessage()
    message["To"] = alert.email
    message["Subject"] = subject(concern)
    message.set_content("\n".join(body) + "\n")
    return message


def webhook_payload(alert: Alert, public_url: str) -> dict[str, Any]:
    """JSON that chat tools accept: `text` for Slack, Teams and Mattermost, and the same in fields."""
    concern = alert.concern
    url = department_url(public_url, concern.department_id)
    text = " ".join([f"{subject(concern)}.", *summary_lines(alert), *([url] if url else [])])
    labels = {m.key: m.label for m in MEASURES}
    return {
        "text": text,
        "department": {"id": concern.department_id, "name": concern.department},
        "week_start": concern.week_start.isoformat(),
        "iso_week": published.iso_week(concern.week_start),
        "measures": [
            {"measure": key, "label": labels[key], "reading": concern.readings[key]} for key in alert.measures
        ],
        "figures": dict(concern.figures),
        "url": url,
    }


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%B} {day.year}"
