"""Tallies: the only form in which ratings are stored (PRIVACY.md section 1).

Each row holds all three colours as columns, so the row a rating touches never reveals its colour.
There is deliberately no table that ties a team to a day or a shift band.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base


class TeamWeekTally(Base):
    """Team x ISO week: ratings per colour and distinct contributors. week_start is the ISO Monday."""

    __tablename__ = "team_week_tally"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(primary_key=True, index=True)
    red: Mapped[int] = mapped_column(default=0)
    amber: Mapped[int] = mapped_column(default=0)
    green: Mapped[int] = mapped_column(default=0)
    contributors: Mapped[int] = mapped_column(default=0)


class TeamWeekReasonTally(Base):
    """Team x ISO week x reason tag: how many ratings named the tag."""

    __tablename__ = "team_week_reason_tally"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(primary_key=True, index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("reason_tag.id"), primary_key=True)
    ratings: Mapped[int] = mapped_column(default=0)


# Rows per organisation shift: every rating at a shift's end adds to the same shift, and one row would make
# them queue for its lock through each commit's disk flush. A rating adds to a slot picked at random.
ORG_SHIFT_SLOTS = 32


class OrgShiftTally(Base):
    """Organisation x shift date x shift band: ratings per colour, split over up to ORG_SHIFT_SLOTS rows
    (`slot`) that mean nothing on their own. Readers add a shift's slots up (tallies.org_shift_totals)."""

    __tablename__ = "org_shift_tally"

    shift_date: Mapped[dt.date] = mapped_column(primary_key=True)
    band_id: Mapped[int] = mapped_column(ForeignKey("shift_band.id"), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0, server_default="0")
    red: Mapped[int] = mapped_column(default=0)
    amber: Mapped[int] = mapped_column(default=0)
    green: Mapped[int] = mapped_column(default=0)
