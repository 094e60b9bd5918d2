"""People, not ratings: the same person rates several shifts of a day and several days of a week, so a day or
a week is never shown, or derivable, as a group of fewer than k different people (issue 17, 5(a))."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from pulse.models import Level
from pulse.services.publication import (
    Cell,
    Tree,
    atom,
    audit_tree,
    highest_published_below,
    publish_week,
    suppress,
)
from pulse.services.tallies import TallyDelta, apply_delta
from tests.factories import Org, make_org
from tests.services.test_publication import TODAY, WEEK, cell, shown

K = 10


class Ratings:
    """Ratings for one team's week, person by person, with each contributor counted as the mixer counts them:
    once per team-week, once per day, once per organisation week."""

    def __init__(self, session: Session, org: Org) -> None:
        self.session, self.org = session, org
        self.in_week: set[int] = set()
        self.on_day: set[tuple[int, dt.date]] = set()

    def add(self, people: range, day: dt.date, bands: tuple[str, ...], colour: str = "green") -> None:
        delta = TallyDelta()
        for person, band in itertools.product(people, bands):
            new_in_week, new_on_day = person not in self.in_week, (person, day) not in self.on_day
            self.in_week.add(person)
            self.on_day.add((person, day))
            delta.add_rating(
                team_id=self.org.team.id,
                week=WEEK,
                shift_date=day,
                band_id=self.org.bands[band].id,
                colour=colour,
                new_contributor=new_in_week,
                new_day_contributor=new_on_day,
                new_week_contributor=new_in_week,
            )
        apply_delta(self.session, delta)
        self.session.commit()


def test_five_people_rating_two_shifts_are_five_contributors_and_hidden_at_k_10(session) -> None:
    """The audit's case: five people each rated Early and Late on one day. Ten ratings, five people."""
    ratings = Ratings(session, make_org(session, teams=1, headcount=40))
    tuesday = WEEK + dt.timedelta(days=1)
    ratings.add(range(5), tuesday, ("Early", "Late"))
    ratings.add(range(5, 30), WEEK, ("Early",))  # a busy Monday, so the week itself can be shown
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    assert shown(cell(session, Level.DAY, 0, tuesday)) is None, "5 people are not 10"
    # Showing Monday would give Tuesday's 10 ratings away by subtraction from the week: 5 people again.
    assert shown(cell(session, Level.DAY, 0, WEEK)) is None
    week = shown(cell(session, Level.ORGANISATION, 0))
    assert week is not None and sum(week[:3]) == 35 and week[3] == 30


def test_a_day_rated_twice_by_the_same_people_shows_them_once(session) -> None:
    ratings = Ratings(session, make_org(session, teams=1, headcount=40))
    ratings.add(range(12), WEEK, ("Early", "Late"))
    ratings.add(range(12, 40), WEEK + dt.timedelta(days=2), ("Early",))
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    monday = shown(cell(session, Level.DAY, 0, WEEK))
    assert monday is not None and sum(monday[:3]) == 24 and monday[3] == 12, "24 ratings from 12 people"


def test_a_weekend_of_the_same_few_people_is_not_derivable_from_the_week(session) -> None:
    """Saturday and Sunday each have 6 raters, the same 6: hidden (6 < k). The week minus the shown days would
    give the weekend's 12 ratings, which are only 6 people: it must not be derivable."""
    ratings = Ratings(session, make_org(session, teams=1, headcount=60))
    for offset, people in ((0, range(0, 12)), (1, range(12, 24)), (2, range(24, 36))):
        ratings.add(people, WEEK + dt.timedelta(days=offset), ("Early",))
    for offset in (5, 6):
        ratings.add(range(36, 42), WEEK + dt.timedelta(days=offset), ("Early",), "red")
    publish_week(session, WEEK, k=K, today=TODAY)
    session.commit()
    week = shown(cell(session, Level.ORGANISATION, 0))
    days = [shown(cell(session, Level.DAY, 0, WEEK + dt.timedelta(days=d))) for d in range(7)]
    if week is None:
        return  # the whole week stays dark: nothing derivable
    hidden_ratings = sum(week[:3]) - sum(sum(d[:3]) for d in days if d is not None)
    assert hidden_ratings == 0 or hidden_ratings >= 2 * K, "no group of 6 people can be worked out"


@st.composite
def weeks_of_people(draw: st.DrawFn) -> tuple[Tree, dict]:
    """A time tree (week > days > bands) built from who rated which band: people repeat across the bands of
    a day and across days, as staff do. Returns the tree and each band's set of people."""
    pool = draw(st.integers(3, 30))
    people_of: dict = {}
    cells: list[Cell] = []
    week_people: set[int] = set()
    week_counts = [0, 0, 0]
    for day in range(draw(st.integers(1, 4))):
        day_people: set[int] = set()
        day_counts = [0, 0, 0]
        for band in range(draw(st.integers(1, 3))):
            raters = draw(st.sets(st.integers(0, pool - 1), max_size=pool))
            colours = [draw(st.integers(0, 2)) for _ in raters]
            counts = [colours.count(c) for c in range(3)]
            node = ("band", day, band)
            people_of[node] = raters
            cells.append(Cell(node, ("day", day), *counts, n=len(raters)))
            day_people |= raters
            day_counts = [a + b for a, b in zip(day_counts, counts, strict=True)]
        cells.append(Cell(("day", day), "week", *day_counts, n=len(day_people)))
        week_people |= day_people
        week_counts = [a + b for a, b in zip(week_counts, day_counts, strict=True)]
    cells.append(Cell("week", None, *week_counts, n=len(week_people)))
    return Tree.build(cells), people_of


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks_of_people())
def test_no_derivable_group_is_fewer_than_k_real_people(case: tuple[Tree, dict]) -> None:
    """For every published cell, what remains after its published sub-cells is a group of real people: count
    them from who actually rated, not from the tallies' arithmetic, and require 0 ratings or k people."""
    tree, people_of = case
    k = 5
    published = suppress(tree, k)
    for v in published:
        red, amber, green, _n = atom(tree, v, published)
        if red + amber + green == 0:
            continue
        covered = {leaf for d in highest_published_below(tree, v, published) for leaf in tree.leaves_under(d)}
        remainder = [leaf for leaf in tree.leaves_under(v) if leaf not in covered]
        people = len(set().union(*(people_of[leaf] for leaf in remainder)))
        assert people >= k, f"{v!r} gives away {red + amber + green} ratings of {people} people"
    assert audit_tree(tree, published, k).ok
