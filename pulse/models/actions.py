""" "You said, we did": actions managers record on a department's timeline, and alert subscriptions.

Actions are shown to everyone on the same charts as the figures. An action may rebase the SPC limits (a
PDSA cycle). Alerts tell subscribed managers about new special causes of concern in published figures.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.clock import utcnow
from pulse.db import Base
from pulse.models.structure import Department, ReasonTag

action_reason = Table(
    "action_reason",
    Base.metadata,
    Column("action_id", ForeignKey("action.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("reason_tag.id"), primary_key=True),
)


class Action(Base):
    """Something a department changed in answer to what staff said."""

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    taken_on: Mapped[dt.date]  # the day the change was made
    summary: Mapped[str] = mapped_column(String(280))  # what changed, in a sentence staff will read
    # True: the SPC limits start again from the week of this action (a new process, a PDSA cycle).
    rebase: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn: Mapped[bool] = mapped_column(default=False)  # kept, not deleted, like everything staff saw

    department: Mapped[Department] = relationship()
    reasons: Mapped[list[ReasonTag]] = relationship(secondary=action_reason, order_by=ReasonTag.label)


class AlertSubscription(Base):
    """A manager's wish to hear of new special causes of concern in a department, by email and/or webhook."""

    __tablename__ = "alert_subscription"
    __table_args__ = (UniqueConstraint("user_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    by_email: Mapped[bool] = mapped_column(default=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500))


class SentAlert(Base):
    """One alert delivered to one subscription: each is sent once, however often `pulse alerts` runs."""

    __tablename__ = "sent_alert"
    __table_args__ = (UniqueConstraint("subscription_id", "week_start", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("alert_subscription.id", ondelete="CASCADE"))
    week_start: Mapped[dt.date]  # the published week whose point is the special cause
    measure: Mapped[str] = mapped_column(String(40))  # e.g. "net_score", "percent_red"
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
