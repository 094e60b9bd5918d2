"""People who may change things: administrators and managers, their departments, the organisation's settings,
and the audit log of every privileged change. Nothing here is ever about a rating."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Column, DateTime, Enum, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.clock import utcnow
from pulse.db import Base
from pulse.models.structure import Department


class Role(enum.StrEnum):
    ADMIN = "admin"  # may act everywhere
    MANAGER = "manager"  # may act in their departments only


manager_department = Table(
    "manager_department",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e])
    )
    # argon2id; None for an account that signs in only through the organisation's identity provider.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Raised on a password change or deactivation: every session signed with an older value ends.
    session_version: Mapped[int] = mapped_column(default=1)

    departments: Mapped[list[Department]] = relationship(
        secondary=manager_department, order_by=Department.name
    )

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class DashboardAccess(enum.StrEnum):
    PUBLIC = "public"  # anyone who can reach Pulse (on the organisation's network)
    SIGNED_IN = "signed_in"  # signed-in users, and staff whose device has joined a team


class RatingMode(enum.StrEnum):
    """Who may add ratings (docs/anonymity.md A7-A9)."""

    OPEN = "open"  # anyone with a team's join code; ratings capped at headcount
    VERIFIED = "verified"  # only people on the team's roster, once per shift, with anonymous tokens


class OrganisationSettings(Base):
    """Settings the organisation changes in the admin area. One row; environment values are the defaults."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: PULSE_MIN_GROUP_SIZE. Applies to weeks published after the change; published weeks keep theirs.
    min_group_size: Mapped[int | None]
    dashboard_access: Mapped[DashboardAccess] = mapped_column(
        Enum(DashboardAccess, name="dashboard_access", values_callable=lambda e: [m.value for m in e]),
        default=DashboardAccess.PUBLIC,
    )
    # In verified mode a team's headcount is its roster size (pulse.services.accounts.roster.team_headcounts).
    rating_mode: Mapped[RatingMode] = mapped_column(
        Enum(RatingMode, name="rating_mode", values_callable=lambda e: [m.value for m in e]),
        default=RatingMode.OPEN,
        server_default=RatingMode.OPEN.value,
    )
    # The day (in the organisation's time zone) rating_mode was last switched: a week published later says
    # it was verified only if the mode was verified from before its Monday. None: not known (taken as open).
    rating_mode_since: Mapped[dt.date | None]
    # Staff devices' dashboard cookies carry the generation they were given under; raising it (the admin
    # area's "sign out every staff device") ends them all at once. Nothing else about a device is stored.
    dashboard_generation: Mapped[int] = mapped_column(default=1, server_default="1")


class AuditEvent(Base):
    """Who changed what, and when. Privileged changes only; never anything about ratings or who rated."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))  # kept as text, so the log outlives the account
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
