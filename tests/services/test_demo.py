"""The demo seeding: a believable trust, and a simulated history that obeys the rules live ratings obey."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse import migrate
from pulse.db import make_engine
from pulse.models import TeamWeekReasonTally, TeamWeekTally
from pulse.services import structure
from pulse.services.demo import (
    DemoOrganisation,
    describe,
    has_organisation,
    plan_history,
    seed_actions,
    seed_organisation,
    write_history,
)
from pulse.services.shifts import week_start
from pulse.services.tallies import TallyDelta, org_shift_totals

SEED = 2017
END = dt.date(2026, 11, 18)  # a Wednesday: the current week is partial
WEEKS = 52


def _seed_offline(path: Path, seed: int = SEED) -> DemoOrganisation:
    """Seed into a throwaway SQLite file: the plan needs only the returned dataclass, not the database."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            return seed_organisation(session, seed=seed)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> DemoOrganisation:
    return _seed_offline(tmp_path_factory.mktemp("demo") / "organisation.db")


@pytest.fixture(scope="module")
def year(organisation: DemoOrganisation) -> list[TallyDelta]:
    return plan_history(organisation, end=END, weeks=WEEKS, seed=SEED)


def _green_share(counts: list[tuple[int, int]]) -> float:
    """counts: (green, total) pairs."""
    return sum(g for g, _ in counts) / sum(t for _, t in counts)


def _week_of(delta: TallyDelta) -> dt.date:
    weeks = {week for _, week in delta.team_weeks}
    assert len(weeks) == 1
    return weeks.pop()


def test_seeding_creates_a_believable_trust(session: Session) -> None:
    assert not has_organisation(session)
    organisation = seed_organisation(session, seed=SEED)
    session.commit()

    assert has_organisation(session)
    departments = structure.list_departments(session)
    teams = structure.list_teams(session)
    bands = structure.list_shift_bands(session)
    assert len(departments) == 12
    assert all(len(d.teams) >= 3 for d in departments)
    assert len(teams) == 60
    assert all(4 <= t.headcount <= 45 for t in teams)
    assert sum(t.headcount < 10 for t in teams) >= 3  # small teams, so suppression has work to do
    assert [(b.name, b.start_time, b.end_time) for b in bands] == [
        ("Early", dt.time(7, 0), dt.time(15, 0)),
        ("Late", dt.time(14, 30), dt.time(22, 30)),
        ("Night", dt.time(22, 0), dt.time(7, 30)),
    ]
    assert len(structure.list_reason_tags(session)) == 12
    # The dataclass the simulation runs on describes exactly what was stored.
    assert {(t.id, t.headcount, t.department) for t in organisation.teams} == {
        (t.id, t.headcount, t.department.name) for t in teams
    }
    assert organisation.tags == {tag.label: tag.id for tag in structure.list_reason_tags(session)}
    assert organisation.trouble.department in organisation.departments
    assert "No ratings stored yet." in describe(session)


def test_the_same_seed_gives_the_same_organisation_and_plan(tmp_path: Path) -> None:
    first = _seed_offline(tmp_path / "first.db")
    again = _seed_offline(tmp_path / "again.db")
    other = _seed_offline(tmp_path / "other.db", seed=SEED + 1)
    assert first == again
    assert first != other
    plan = plan_history(first, end=END, weeks=4, seed=SEED)
    assert plan == plan_history(again, end=END, weeks=4, seed=SEED)
    assert plan != plan_history(first, end=END, weeks=4, seed=SEED + 1)


def test_the_plan_is_whole_weeks_then_the_current_week_up_to_end(year: list[TallyDelta]) -> None:
    current = week_start(END)
    assert [_week_of(d) for d in year] == [current - dt.timedelta(weeks=n) for n in range(WEEKS, -1, -1)]
    for delta in year:
        week = _week_of(delta)
        assert all(week <= day < week + dt.timedelta(days=7) for day, _ in delta.org_shifts)
        assert all(w == week for _, w, _ in delta.team_week_reasons)
    assert max(day for day, _ in year[-1].org_shifts) == END
    assert {day for day, _ in year[-1].org_shifts} == {current + dt.timedelta(days=n) for n in range(3)}
    assert {day for day, _ in year[-2].org_shifts} == {current - dt.timedelta(days=n) for n in range(1, 8)}


@pytest.mark.parametrize("end", [dt.date(2026, 11, 16), dt.date(2026, 11, 22)], ids=["monday", "sunday"])
def test_the_current_week_is_included_on_its_first_and_last_day(
    organisation: DemoOrganisation, end: dt.date
) -> None:
    plan = plan_history(organisation, end=end, weeks=1, seed=SEED)
    assert len(plan) == 2
    assert _week_of(plan[-1]) == week_start(end)
    assert max(day for day, _ in plan[-1].org_shifts) == end


def test_contributors_never_exceed_headcount_or_ratings(
    organisation: DemoOrganisation, year: list[TallyDelta]
) -> None:
    headcount = {t.id: t.headcount for t in organisation.teams}
    for delta in year:
        assert delta.team_week_contributors.keys() == delta.team_weeks.keys()
        for key, counts in delta.team_weeks.items():
            contributors = delta.team_week_contributors[key]
            assert 1 <= contributors <= min(headcount[key[0]], counts.total)
            assert counts.total <= 7 * contributors  # one rating per shift, one shift a day


def test_no_shift_has_more_ratings_than_the_staff_who_work_it(
    organisation: DemoOrganisation, year: list[TallyDelta]
) -> None:
    for delta in year:
        for (day, band_id), counts in delta.org_shifts.items():
            working = [
                t
                for t in organisation.teams
                if band_id in t.band_ids and (day.weekday() < 5 or not t.weekdays_only)
            ]
            assert 0 < counts.total <= sum(t.headcount for t in working)


def test_org_shift_tallies_add_up_to_team_week_tallies(year: list[TallyDelta]) -> None:
    for delta in year:
        for colour in ("red", "amber", "green"):
            by_shift = sum(getattr(c, colour) for c in delta.org_shifts.values())
            by_team = sum(getattr(c, colour) for c in delta.team_weeks.values())
            assert by_shift == by_team > 0


def test_reasons_are_known_tags_and_at_most_two_a_rating(
    organisation: DemoOrganisation, year: list[TallyDelta]
) -> None:
    tag_ids = set(organisation.tags.values())
    for delta in year:
        named: Counter[tuple[int, dt.date]] = Counter()
        for (team, week, tag), n in delta.team_week_reasons.items():
            assert tag in tag_ids
            named[(team, week)] += n
        for key, n in named.items():
            assert n <= 2 * delta.team_weeks[key].total


def test_participation_is_partial_but_no_team_is_silent(
    organisation: DemoOrganisation, year: list[TallyDelta]
) -> None:
    ratings: Counter[int] = Counter()
    for delta in year[:-1]:
        for (team, _), counts in delta.team_weeks.items():
            ratings[team] += counts.total
    for team in organisation.teams:
        assert 0.4 <= ratings[team.id] / team.headcount / WEEKS <= 3.5, team.name
    # Staff work about 3-4 shifts a week and rate 25-70% of them; everyone rating every shift would be ~3.3.
    per_head_week = sum(ratings.values()) / sum(t.headcount for t in organisation.teams) / WEEKS
    assert 1.0 <= per_head_week <= 2.2


def test_weekday_only_teams_make_weekend_days_quieter(
    organisation: DemoOrganisation, year: list[TallyDelta]
) -> None:
    by_day: dict[str, Counter[int]] = defaultdict(Counter)
    names = {band.id: band.name for band in organisation.bands.values()}
    for delta in year[:-1]:
        for (day, band_id), counts in delta.org_shifts.items():
            by_day[names[band_id]][day.weekday()] += counts.total
    early, night = by_day["Early"], by_day["Night"]
    assert max(early[5], early[6]) < 0.6 * min(early[d] for d in range(5))  # offices and clinics close
    assert min(night.values()) > 0.8 * max(night.values())  # wards never do


def test_winter_is_worse_than_summer(year: list[TallyDelta]) -> None:
    seasons: dict[str, list[tuple[int, int]]] = {"winter": [], "summer": []}
    for delta in year:
        for (day, _), counts in delta.org_shifts.items():
            if day.month in (12, 1, 2):
                seasons["winter"].append((counts.green, counts.total))
            elif day.month in (6, 7, 8):
                seasons["summer"].append((counts.green, counts.total))
    assert _green_share(seasons["winter"]) < _green_share(seasons["summer"]) - 0.05


def test_the_troubled_department_dips_then_recovers(
    organisation: DemoOrganisation, year: list[TallyDelta]
) -> None:
    trouble = organisation.trouble
    department = {t.id: t.department for t in organisation.teams}
    labels = {tag_id: label for label, tag_id in organisation.tags.items()}

    def gap(weeks_ago: range) -> float:
        """How far the troubled department's green share falls below the rest of the organisation's."""
        inside: list[tuple[int, int]] = []
        rest: list[tuple[int, int]] = []
        for n in weeks_ago:
            for (team, _), c in year[WEEKS - n].team_weeks.items():
                (inside if department[team] == trouble.department else rest).append((c.green, c.total))
        return _green_share(rest) - _green_share(inside)

    start = trouble.starts_weeks_ago
    before = gap(range(start + 8, start, -1))
    during = gap(range(start - 2, start - trouble.weeks, -1))  # after its two-week slide
    after = gap(range(start - trouble.weeks - trouble.recovery_weeks, -1, -1))
    assert during > before + 0.2
    assert after < during - 0.2

    reasons: Counter[str] = Counter()
    for n in range(start - 2, start - trouble.weeks, -1):
        for (team, _, tag), count in year[WEEKS - n].team_week_reasons.items():
            if department[team] == trouble.department:
                reasons[labels[tag]] += count
    assert {label for label, _ in reasons.most_common(2)} == {"Staffing levels", "Bed pressures"}


def test_writing_the_history_stores_exactly_the_plan(session: Session) -> None:
    organisation = seed_organisation(session, seed=SEED)
    session.commit()
    plan = plan_history(organisation, end=END, weeks=3, seed=SEED)

    for delta in plan:
        write_history(session, delta)
    session.commit()

    expected_teams = {
        key: (c.red, c.amber, c.green, d.team_week_contributors[key])
        for d in plan
        for key, c in d.team_weeks.items()
    }
    expected_reasons = {key: n for d in plan for key, n in d.team_week_reasons.items()}
    expected_shifts = {key: (c.red, c.amber, c.green) for d in plan for key, c in d.org_shifts.items()}
    stored_teams = {
        (r.team_id, r.week_start): (r.red, r.amber, r.green, r.contributors)
        for r in session.scalars(select(TeamWeekTally))
    }
    stored_reasons = {
        (r.team_id, r.week_start, r.tag_id): r.ratings for r in session.scalars(select(TeamWeekReasonTally))
    }
    stored_shifts = {(r.shift_date, r.band_id): (r.red, r.amber, r.green) for r in org_shift_totals(session)}
    assert stored_teams == expected_teams
    assert stored_reasons == expected_reasons
    assert stored_shifts == expected_shifts

    summary = describe(session)
    total = sum(c.total for d in plan for c in d.team_weeks.values())
    assert "12 departments, 60 teams" in summary
    assert "3 shift bands, 12 reason tags" in summary
    assert f"Ratings stored: {total:,} over 4 ISO weeks" in summary
    assert f"shift dates {week_start(END) - dt.timedelta(weeks=3)} to {END}" in summary


def test_the_demo_answers_its_troubled_department_with_a_rebasing_action(session: Session) -> None:
    from pulse import published

    organisation = seed_organisation(session, seed=SEED)
    end = dt.date(2026, 11, 17)
    actions = seed_actions(session, organisation, end=end)
    session.commit()
    shown = published.actions(session)
    assert len(shown) == len(actions) == 2
    answer = next(a for a in shown if a["rebase"])
    assert answer["department"] == organisation.trouble.department
    assert set(answer["reasons"]) == {"Staffing levels", "Bed pressures"}
    weeks_ago = (week_start(end) - answer["week_start"]).days // 7
    assert weeks_ago == organisation.trouble.starts_weeks_ago - organisation.trouble.weeks
