"""The organisation: departments, teams, shift bands and reason tags."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.db import Base

NAME_LENGTH = 120


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    teams: Mapped[list[Team]] = relationship(back_populates="department", order_by="Team.name")

    @property
    def active_teams(self) -> list[Team]:
        return [team for team in self.teams if team.active]


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (
        UniqueConstraint("department_id", "name"),
        CheckConstraint("headcount >= 0", name="headcount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    headcount: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # The local date it was last retired on, while it is retired. Its weeks up to that one keep it, rated or
    # not, so that a retired team that was rated looks just like one that was not (docs/anonymity.md A26).
    retired_on: Mapped[dt.date | None]
    # Printed on ward posters: identifies a team, never a person. Random, at least 64 bits; rotatable.
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    # Set while the team has a shared ward tablet (kiosk mode); the tablet's address holds it.
    kiosk_token: Mapped[str | None] = mapped_column(String(32), unique=True)

    department: Mapped[Department] = relationship(back_populates="teams")


class ShiftBand(Base):
    """A named part of the day in local time. A band whose end is not after its start runs past midnight."""

    __tablename__ = "shift_band"
    __table_args__ = (CheckConstraint("start_time <> end_time", name="not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    start_time: Mapped[dt.time]
    end_time: Mapped[dt.time]
    active: Mapped[bool] = mapped_column(default=True)
    retired_on: Mapped[dt.date | None]  # as Team.retired_on

    @property
    def crosses_midnight(self) -> bool:
        return self.end_time <= self.start_time


class ReasonTag(Base):
    """An optional reason staff can attach to a rating. Retired, never deleted, to keep history."""

    __tablename__ = "reason_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class SupportLink(Base):
    """Where to find support, shown to staff after a tough shift: wellbeing service, peer support..."""

    __tablename__ = "support_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
