"""Publishing closed weeks: suppression on both trees, freezing, the structure of the week, and the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import Level, PublishedCell, PublishedWeek
from pulse.services import structure
from pulse.services.publication import audit_published, primary_only, publish_due, publish_week
from pulse.services.publication import publish as publication
from tests.conftest import LONDON
from tests.factories import add_week, make_org

K = 5
WEEK = dt.date(2026, 11, 9)  # a closed week, given the test clock's Wednesday 18 November
TODAY = dt.date(2026, 11, 18)
GRACE = dt.timedelta(minutes=120)


def cell(session: Session, level: Level, unit_id: int, period: dt.date = WEEK) -> PublishedCell:
    return session.scalars(
        select(PublishedCell).where(
            PublishedCell.level == level, PublishedCell.unit_id == unit_id, PublishedCell.period == period
        )
    ).one()


def shown(c: PublishedCell) -> tuple[int, int, int, int] | None:
    return None if c.red is None else (c.red, c.amber, c.green, c.contributors)


def test_department_minus_visible_teams_is_protected(session) -> None:
    org = make_org(session, teams=3)
    add_week(session, org, WEEK, {0: (2, 4, 6, 12), 1: (3, 5, 7, 15), 2: (1, 1, 1, 3)})
    assert publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()

    team_a, team_b, team_c = (cell(session, Level.TEAM, t.id) for t in org.teams)
    assert shown(team_c) is None, "3 contributors is below k"
    assert shown(team_a) is None, "otherwise the department minus A and B would give C away"
    assert shown(team_b) == (3, 5, 7, 15)
    assert shown(cell(session, Level.DEPARTMENT, org.department.id)) == (6, 10, 14, 30)
    assert audit_published(session)[1].ok


def test_two_teams_where_one_is_hidden(session) -> None:
    org = make_org(session, teams=2)
    add_week(session, org, WEEK, {0: (0, 3, 6, 9), 1: (1, 1, 0, 2)})
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    assert [shown(cell(session, Level.TEAM, t.id)) for t in org.teams] == [None, None]
    assert shown(cell(session, Level.DEPARTMENT, org.department.id)) == (1, 4, 6, 11)
    assert audit_published(session)[1].ok


def test_hidden_and_empty_cells_are_stored_alike(session) -> None:
    org = make_org(session, teams=3)
    add_week(session, org, WEEK, {0: (1, 1, 1, 3), 1: (4, 4, 4, 12)})  # team 2 has no ratings at all
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    hidden, empty = cell(session, Level.TEAM, org.teams[0].id), cell(session, Level.TEAM, org.teams[2].id)
    fields = ("red", "amber", "green", "contributors")
    assert [getattr(hidden, f) for f in fields] == [getattr(empty, f) for f in fields] == [None] * 4


def test_a_team_moved_after_publication_keeps_its_history(session) -> None:
    org = make_org(session, teams=3)
    add_week(session, org, WEEK, {0: (2, 3, 5, 10), 1: (2, 3, 5, 10), 2: (2, 3, 5, 10)})
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()

    surgery = structure.add_department(session, "Surgery")
    org.teams[2].department = surgery
    session.commit()
    later = WEEK + dt.timedelta(weeks=1)
    add_week(session, org, later, {0: (2, 3, 5, 10), 1: (2, 3, 5, 10), 2: (2, 3, 5, 10)})
    publish_week(session, later, k=K, today=TODAY)
    session.commit()

    moved = org.teams[2].id
    assert cell(session, Level.TEAM, moved).parent_id == org.department.id
    assert cell(session, Level.TEAM, moved, later).parent_id == surgery.id
    assert shown(cell(session, Level.DEPARTMENT, org.department.id))[3] == 30
    assert shown(cell(session, Level.DEPARTMENT, org.department.id, later))[3] == 20
    assert audit_published(session)[1].ok


def test_a_late_rating_never_changes_a_frozen_week(session) -> None:
    org = make_org(session, teams=2)
    add_week(session, org, WEEK, {0: (2, 3, 5, 10), 1: (1, 2, 3, 6)})
    assert publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    before = [shown(c) for c in session.scalars(select(PublishedCell).order_by(PublishedCell.id))]

    add_week(session, org, WEEK, {1: (0, 0, 4, 1)})  # a correction arriving after the week was frozen
    assert not publish_week(session, WEEK, k=K, today=TODAY), "publishing twice changes nothing"
    session.commit()
    after = [shown(c) for c in session.scalars(select(PublishedCell).order_by(PublishedCell.id))]
    assert after == before


def test_weeks_are_published_only_after_the_last_night_and_grace(session) -> None:
    org = make_org(session, teams=1)
    add_week(session, org, WEEK, {0: (2, 3, 5, 10)})
    # Sunday 15 November's night ends 07:30 on Monday 16th; with two hours' grace the week closes at 09:30.
    too_early = dt.datetime(2026, 11, 16, 9, 29, tzinfo=LONDON)
    assert publish_due(session, too_early, LONDON, GRACE, K) == []
    assert session.scalar(select(func.count()).select_from(PublishedWeek)) == 0
    on_time = dt.datetime(2026, 11, 16, 9, 31, tzinfo=LONDON)
    assert WEEK in publish_due(session, on_time, LONDON, GRACE, K)
    assert publish_due(session, on_time, LONDON, GRACE, K) == []


def test_a_quiet_day_is_hidden_with_enough_company(session) -> None:
    """The time tree: a quiet day is hidden, and so is another, so the week total cannot give it away."""
    org = make_org(session, teams=1)
    add_week(session, org, WEEK, {0: (4, 10, 30, 12)}, days=3)  # 44 ratings over Mon-Wed only
    from pulse.services.tallies import TallyDelta, apply_delta

    delta = TallyDelta()  # and 2 ratings on the Sunday
    for colour in ("red", "green"):
        delta.add_rating(
            team_id=org.team.id,
            week=WEEK,
            shift_date=WEEK + dt.timedelta(days=6),
            band_id=org.bands["Early"].id,
            colour=colour,
            new_contributor=False,
            new_day_contributor=True,
            new_week_contributor=False,
        )
    apply_delta(session, delta)
    session.commit()
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    sunday = cell(session, Level.DAY, 0, WEEK + dt.timedelta(days=6))
    assert shown(sunday) is None
    days_shown = [
        shown(cell(session, Level.DAY, 0, WEEK + dt.timedelta(days=d))) is not None for d in range(3)
    ]
    assert days_shown.count(False) >= 1, (
        "one busy day is hidden too, so the week minus the rest is not Sunday"
    )
    assert audit_published(session)[1].ok


def test_a_week_too_small_for_the_root_stays_dark(session) -> None:
    org = make_org(session, teams=2)
    add_week(session, org, WEEK, {0: (1, 1, 1, 3)})
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    assert all(shown(c) is None for c in session.scalars(select(PublishedCell)))


def test_the_audit_fails_on_primary_only_publication(session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit can fail: publish with the primary rule only and it finds the team given away."""
    org = make_org(session, teams=3)
    add_week(session, org, WEEK, {0: (2, 4, 6, 12), 1: (3, 5, 7, 15), 2: (1, 1, 1, 3)})
    monkeypatch.setattr(publication, "suppress", lambda tree, k, keep=(): primary_only(tree, k) | set(keep))
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    weeks, result = audit_published(session)
    assert weeks == 1
    assert not result.ok
    assert any("can be worked out" in p for p in result.problems)


def test_the_demo_trust_passes_the_audit(session) -> None:
    from pulse.services import demo

    organisation = demo.seed_organisation(session, seed=7)
    for delta in demo.plan_history(organisation, end=TODAY - dt.timedelta(days=1), weeks=3, seed=7):
        demo.write_history(session, delta)
    session.commit()
    now = dt.datetime(2026, 11, 18, 12, 0, tzinfo=LONDON)
    assert len(publish_due(session, now, LONDON, GRACE, 10)) == 3
    session.commit()
    weeks, result = audit_published(session)
    assert weeks == 3 and result.ok, result.problems
    assert result.hidden_with_records > 0, "the demo has teams too small to show"
