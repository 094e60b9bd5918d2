"""Tallies: the only form in which ratings are stored (PRIVACY.md section 1).

Each row holds all three colours as columns, so the row a rating touches never reveals its colour.
There is deliberately no table that ties a team to a day or a shift band.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
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


class OrgShiftTally(Base):
    """Organisation x shift date x shift band: ratings per colour."""

    __tablename__ = "org_shift_tally"

    shift_date: Mapped[dt.date] = mapped_column(primary_key=True)
    band_id: Mapped[int] = mapped_column(ForeignKey("shift_band.id"), primary_key=True)
    red: Mapped[int] = mapped_column(default=0)
    amber: Mapped[int] = mapped_column(default=0)
    green: Mapped[int] = mapped_column(default=0)
