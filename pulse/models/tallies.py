"""Tallies: the only form in which ratings are stored (docs/anonymity.md A1, A2).

Each row holds all three colours as columns, so the row a rating touches never reveals its colour.
There is deliberately no table that ties a team to a day or a shift band. Ratings reach these tables only
through the mixer (rating.mixer), in batches that update every row of the open weeks and days at once.
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
    """Organisation x shift date x shift band: ratings per colour. In a shift, each device (verified mode:
    each person, per team) rates once, so a shift's ratings are its contributors."""

    __tablename__ = "org_shift_tally"

    shift_date: Mapped[dt.date] = mapped_column(primary_key=True)
    band_id: Mapped[int] = mapped_column(ForeignKey("shift_band.id"), primary_key=True)
    red: Mapped[int] = mapped_column(default=0)
    amber: Mapped[int] = mapped_column(default=0)
    green: Mapped[int] = mapped_column(default=0)


class OrgDayTally(Base):
    """Organisation x shift date: distinct contributors, so that a day of two bands rated by the same people
    is never shown as twice as many people (a day cell is shown only when at least k different people
    rated in it)."""

    __tablename__ = "org_day_tally"

    shift_date: Mapped[dt.date] = mapped_column(primary_key=True)
    contributors: Mapped[int] = mapped_column(default=0)


class OrgWeekTally(Base):
    """Organisation x ISO week: distinct contributors, so that the days of a week that stay hidden are never
    taken for more people than rated in them (the same people rate on several days of a week)."""

    __tablename__ = "org_week_tally"

    week_start: Mapped[dt.date] = mapped_column(primary_key=True)
    contributors: Mapped[int] = mapped_column(default=0)
