"""Published cells: figures that have passed suppression, frozen with the structure of their week.

A cell that is hidden or empty has null figures; the two are stored, and shown, identically.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base
from pulse.models.accounts import RatingMode


class Level(enum.StrEnum):
    ORGANISATION = "organisation"
    DEPARTMENT = "department"
    TEAM = "team"
    DAY = "day"  # the organisation on one shift date
    SHIFT = "shift"  # the organisation on one shift date and band


LEVEL_ENUM = Enum(Level, name="published_level", values_callable=lambda e: [m.value for m in e])


class PublishedWeek(Base):
    """One ISO week, published once after it closed plus the grace period, and never changed afterwards."""

    __tablename__ = "published_week"

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(unique=True)
    k: Mapped[int]  # the minimum group size in force when the week was published
    published_on: Mapped[dt.date]
    # Verified if the whole week was rated in verified mode (only people on a team's roster, with tokens);
    # open otherwise, a week in which the mode changed included (docs/anonymity.md A7).
    rating_mode: Mapped[RatingMode] = mapped_column(
        Enum(RatingMode, name="rating_mode", values_callable=lambda e: [m.value for m in e]),
        default=RatingMode.OPEN,
        server_default=RatingMode.OPEN.value,
    )


class PublishedCell(Base):
    """One figure of a published week. unit_id is the department, team or band id (0 for the organisation).

    parent_id and name record the structure as it was that week (docs/anonymity.md A21).
    """

    __tablename__ = "published_cell"
    __table_args__ = (
        UniqueConstraint("week_id", "level", "unit_id", "period"),
        Index("ix_published_cell_level_unit", "level", "unit_id"),
        Index("ix_published_cell_level_parent", "level", "parent_id", "period"),  # a department's teams
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("published_week.id", ondelete="CASCADE"))
    level: Mapped[Level] = mapped_column(LEVEL_ENUM)
    unit_id: Mapped[int]
    parent_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(120))
    period: Mapped[dt.date]  # the ISO week's Monday for weekly cells; the shift date for day and shift cells
    red: Mapped[int | None]
    amber: Mapped[int | None]
    green: Mapped[int | None]
    contributors: Mapped[int | None]


class PublishedReason(Base):
    """How many ratings named a reason tag, for a unit and week; null wherever the unit's figures are null."""

    __tablename__ = "published_reason"

    week_id: Mapped[int] = mapped_column(
        ForeignKey("published_week.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[Level] = mapped_column(LEVEL_ENUM, primary_key=True)
    unit_id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("reason_tag.id"), primary_key=True)
    ratings: Mapped[int | None]


class TodaySnapshot(Base):
    """A step of the organisation's "today so far": one band's running counts on one shift date.

    A new step is taken only once k or more people have rated since the last one (docs/anonymity.md A18), and
    steps are public the moment they are taken, so publication treats them as fixed.
    """

    __tablename__ = "today_snapshot"

    shift_date: Mapped[dt.date] = mapped_column(primary_key=True)
    band_id: Mapped[int] = mapped_column(ForeignKey("shift_band.id"), primary_key=True)
    step: Mapped[int] = mapped_column(primary_key=True)
    red: Mapped[int]
    amber: Mapped[int]
    green: Mapped[int]
