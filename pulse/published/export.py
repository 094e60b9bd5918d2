"""Every published figure as open data, one row at a time: colour cells, reason counts, then today's steps."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models.published import PublishedCell, PublishedReason, PublishedWeek
from pulse.published.figures import CELL_FIGURES, NOT_SHOWN, describe_figures
from pulse.published.today import shown_today_steps, step_ratings

EXPORT_BATCH = 2000


def iter_export_rows(session: Session, k: int) -> Iterator[dict]:
    """Every published figure as open data, streamed: colour cells, reason counts, then today's steps.

    `k` is the minimum group size in force: it labels the steps of weeks not yet published (see shown_steps).
    """
    cells = session.execute(
        select(
            PublishedCell.level,
            PublishedCell.unit_id,
            PublishedCell.parent_id,
            PublishedCell.name,
            PublishedCell.period,
            *CELL_FIGURES,
        )
        .order_by(PublishedCell.period, PublishedCell.level, PublishedCell.unit_id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for level, unit_id, parent_id, name, period, red, amber, green, contributors in cells:
        shown = describe_figures(red, amber, green, contributors)
        yield {
            "table": "figures",
            "level": level.value,
            "unit_id": unit_id,
            "parent_id": parent_id,
            "name": name,
            "period": period,
            "tag_id": None,
            **{key: shown[key] for key in ("red", "amber", "green", "ratings", "contributors", "note")},
        }
    reasons = session.execute(
        select(
            PublishedReason.level,
            PublishedReason.unit_id,
            PublishedReason.tag_id,
            PublishedReason.ratings,
            PublishedWeek.week_start,
        )
        .join(PublishedWeek, PublishedWeek.id == PublishedReason.week_id)
        .order_by(
            PublishedWeek.week_start, PublishedReason.level, PublishedReason.unit_id, PublishedReason.tag_id
        )
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for level, unit_id, tag_id, ratings, week in reasons:
        yield {
            "table": "reasons",
            "level": level.value,
            "unit_id": unit_id,
            "parent_id": None,
            "name": None,
            "period": week,
            "tag_id": tag_id,
            "red": None,
            "amber": None,
            "green": None,
            "ratings": ratings,
            "contributors": None,
            "note": NOT_SHOWN if ratings is None else None,
        }
    labels = {week: k for week, k in session.execute(select(PublishedWeek.week_start, PublishedWeek.k))}
    for snap in shown_today_steps(session, labels, k):
        yield {
            "table": "today",
            "level": "shift",
            "unit_id": snap.band_id,
            "parent_id": None,
            "name": f"step {snap.step}",
            "period": snap.shift_date,
            "tag_id": None,
            "red": snap.red,
            "amber": snap.amber,
            "green": snap.green,
            "ratings": step_ratings(snap),
            "contributors": None,
            "note": None,
        }
