"""The real clock: the time now, aware, in UTC. The app's default clock (tests inject their own through
create_app's `now`) and the timestamp default of the rows that record when something was done."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
