"""The demo trust's simulated history, written through the live tally path, and what it says of itself."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from pulse.models import Action, Department, OrgShiftTally, ReasonTag, ShiftBand, Team, TeamWeekTally
from pulse.services.demo.organisation import DemoOrganisation, DemoTeam
from pulse.services.shifts import week_start
from pulse.services.tallies import TallyDelta, apply_delta

# The morale model works on the log-odds of a green rating; a rating is red when the same draw falls below
# -(score + RED_CUT), so red is rarer than amber and both move together with the score.
RED_CUT = 1.7
WINTER_DIP = 1.0  # log-odds lost at the height of winter by a department with winter sensitivity 1
TROUBLE_DIP = 1.6  # log-odds lost by the troubled department at its worst
WEEKEND_DIP = 0.15  # fewer senior staff on site at weekends
NIGHT_DIP = 0.1
GREEN_TAGGED = 0.07  # share of green ratings that name a reason (Teamwork or Recognition)
TAG_COUNTS = {"amber": (0.4, 0.45, 0.15), "red": (0.2, 0.5, 0.3)}  # chance of naming 0, 1 or 2 reasons
SHIFTS_PER_WEEK = (2, 3, 4, 5)
SHIFT_WEIGHTS = {False: (0.15, 0.45, 0.35, 0.05), True: (0.15, 0.25, 0.3, 0.3)}  # by weekdays_only


@dataclass(frozen=True, slots=True)
class _Person:
    """One simulated member of staff: identified only by position in the team, and only in memory."""

    shifts: int
    band_ids: tuple[int, ...]
    band_cum: tuple[float, ...]
    rates: float  # how often this person rates a shift they worked
    mood: float


def plan_history(organisation: DemoOrganisation, *, end: dt.date, weeks: int, seed: int) -> list[TallyDelta]:
    """One delta per ISO week: `weeks` whole weeks before the week of `end`, then that week up to `end`."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable simulation, not a secret
    staff = {team.id: _hire(team, rng) for team in organisation.teams}
    reasons = _ReasonPicker(organisation)
    current = week_start(end)
    return [
        _simulate_week(organisation, staff, reasons, current - dt.timedelta(weeks=n), end, n, rng)
        for n in range(weeks, -1, -1)
    ]


def seed_actions(session: Session, organisation: DemoOrganisation, *, end: dt.date) -> list[Action]:
    """ "You said, we did" for the demo: the troubled department's answer, as its recovery begins (restarting
    its SPC limits), and an everyday change elsewhere."""
    from pulse.services.followup import record_action

    departments = {d.name: d for d in session.scalars(select(Department))}
    trouble = organisation.trouble
    answered_on = week_start(end) - dt.timedelta(weeks=trouble.starts_weeks_ago - trouble.weeks)
    elsewhere = next(name for name in sorted(departments) if name != trouble.department)
    tags = {tag.label: tag.id for tag in session.scalars(select(ReasonTag))}
    plans = [
        (
            trouble.department,
            answered_on,
            "Two more nurses on late and night shifts, and a bed manager on every shift.",
            ["Staffing levels", "Bed pressures"],
            True,
        ),
        (
            elsewhere,
            week_start(end) - dt.timedelta(weeks=10),
            "Protected breaks: a break rota on every shift, and a quiet room.",
            ["Breaks"],
            False,
        ),
    ]
    return [
        record_action(
            session,
            department=departments[name],
            taken_on=taken_on,
            summary=summary,
            reason_ids=[tags[label] for label in labels],
            rebase=rebase,
            recorded_by=None,
            today=end,
        )
        for name, taken_on, summary, labels, rebase in plans
    ]


def write_history(session: Session, delta: TallyDelta) -> None:
    """Add one planned week through apply_delta, the very function the mixer adds live ratings with."""
    apply_delta(session, delta)


def describe(session: Session) -> str:
    """A few lines on what the database now holds, printed after seeding."""
    departments = session.scalar(select(func.count()).select_from(Department)) or 0
    teams, staff = session.execute(select(func.count(), func.coalesce(func.sum(Team.headcount), 0))).one()
    bands = session.scalar(select(func.count()).select_from(ShiftBand)) or 0
    tags = session.scalar(select(func.count()).select_from(ReasonTag)) or 0
    red, amber, green, week_count, first_week, last_week = session.execute(
        select(
            func.coalesce(func.sum(TeamWeekTally.red), 0),
            func.coalesce(func.sum(TeamWeekTally.amber), 0),
            func.coalesce(func.sum(TeamWeekTally.green), 0),
            func.count(distinct(TeamWeekTally.week_start)),
            func.min(TeamWeekTally.week_start),
            func.max(TeamWeekTally.week_start),
        )
    ).one()
    first_day, last_day = session.execute(
        select(func.min(OrgShiftTally.shift_date), func.max(OrgShiftTally.shift_date))
    ).one()
    lines = [
        f"Organisation: {departments} departments, {teams} teams ({staff:,} staff), "
        f"{bands} shift bands, {tags} reason tags.",
    ]
    total = red + amber + green
    if not total:
        return "\n".join([*lines, "No ratings stored yet."])
    lines += [
        f"Ratings stored: {total:,} over {week_count} ISO weeks "
        f"(weeks starting {first_week} to {last_week}; shift dates {first_day} to {last_day}).",
        f"Colours: {green / total:.0%} green, {amber / total:.0%} amber, {red / total:.0%} red "
        f"(net score {100 * (green - red) / total:+.0f}).",
    ]
    return "\n".join(lines)


def _hire(team: DemoTeam, rng: random.Random) -> list[_Person]:
    # Some people rate nearly every shift and some rarely do; scaled so the team's mean is its participation.
    keenness = [rng.uniform(0.3, 1.7) for _ in range(team.headcount)]
    scale = team.participation * len(keenness) / sum(keenness)
    people = []
    for keen in keenness:
        shifts = rng.choices(SHIFTS_PER_WEEK, SHIFT_WEIGHTS[team.weekdays_only])[0]
        weights = team.band_weights
        if len(team.band_ids) == 3 and rng.random() < 0.15:
            weights = (0.0, 0.0, 1.0)  # some ward staff work permanent nights
        band_cum = tuple(sum(weights[: i + 1]) for i in range(len(weights)))
        people.append(_Person(shifts, team.band_ids, band_cum, min(1.0, keen * scale), rng.gauss(0.0, 0.35)))
    return people


def _simulate_week(
    organisation: DemoOrganisation,
    staff: dict[int, list[_Person]],
    reasons: _ReasonPicker,
    monday: dt.date,
    end: dt.date,
    weeks_ago: int,
    rng: random.Random,
) -> TallyDelta:
    delta = TallyDelta()
    days = [monday + dt.timedelta(days=d) for d in range(7)]
    winter = [winter_pressure(day) for day in days]
    day_noise = [rng.gauss(0.0, 0.15) for _ in days]  # a bad day for the whole trust (a major incident...)
    trouble = _trouble_level(organisation, weeks_ago)
    night_id = organisation.bands["Night"].id
    leave = _leave_probability(monday)
    for team in organisation.teams:
        department = organisation.departments[team.department]
        team_trouble = trouble if team.department == organisation.trouble.department else 0.0
        team_score = department.baseline + team.morale + rng.gauss(0.0, 0.2) - TROUBLE_DIP * team_trouble
        day_scores = [
            team_score
            + day_noise[d]
            - WINTER_DIP * department.winter * winter[d]
            - (WEEKEND_DIP if d >= 5 else 0)
            for d in range(7)
        ]
        workdays = range(5) if team.weekdays_only else range(7)
        for person in staff[team.id]:
            if rng.random() < leave:
                continue
            contributed = False
            for d in sorted(rng.sample(workdays, min(person.shifts, len(workdays)))):
                if days[d] > end:
                    break
                band_id = rng.choices(person.band_ids, cum_weights=person.band_cum)[0]
                if rng.random() >= person.rates:
                    continue
                score = day_scores[d] + person.mood - (NIGHT_DIP if band_id == night_id else 0.0)
                colour = _colour(score, rng.random())
                tags = reasons.pick(team.department, colour, team_trouble > 0.3, winter[d] > 0.5, rng)
                delta.add_rating(
                    team_id=team.id,
                    week=monday,
                    shift_date=days[d],
                    band_id=band_id,
                    colour=colour,
                    reason_ids=tags,
                    new_contributor=not contributed,
                    # A person works at most one shift a day here, so each rating is a new person that day.
                    new_day_contributor=True,
                    new_week_contributor=not contributed,  # each person is on one team here
                )
                contributed = True
    return delta


def _colour(score: float, draw: float) -> str:
    green = 1.0 / (1.0 + math.exp(-score))
    red = 1.0 / (1.0 + math.exp(score + RED_CUT))
    if draw < green:
        return "green"
    return "red" if draw < green + red else "amber"


def winter_pressure(day: dt.date) -> float:
    """0 from spring to autumn, rising through December to 1 in late January, easing through February.
    The benchmarks' large trust has the same winters."""
    return max(0.0, math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)) ** 1.5


def _trouble_level(organisation: DemoOrganisation, weeks_ago: int) -> float:
    """1 during the troubled stretch (after a two-week slide into it), then a steady recovery to 0."""
    trouble = organisation.trouble
    into = trouble.starts_weeks_ago - weeks_ago
    if into < 0:
        return 0.0
    if into < trouble.weeks:
        return min(1.0, (into + 1) / 2)
    return max(0.0, 1.0 - (into - trouble.weeks + 1) / (trouble.recovery_weeks + 1))


def _leave_probability(monday: dt.date) -> float:
    # Annual leave peaks in the school summer holidays and over Christmas.
    if monday.month == 8 or (monday.month == 12 and monday.day >= 20):
        return 0.18
    return 0.08


class _ReasonPicker:
    """Draws the reason tags a rating names, from each department's weights in its current circumstances."""

    def __init__(self, organisation: DemoOrganisation) -> None:
        self.tags = organisation.tags
        self.profiles = {
            (name, troubled, winter): self._profile(department.reason_weights, troubled, winter)
            for name, department in organisation.departments.items()
            for troubled in (False, True)
            for winter in (False, True)
        }

    def _profile(self, base: dict[str, float], troubled: bool, winter: bool) -> tuple[list[int], list[float]]:
        weights = dict(base)
        if winter:
            weights["Bed pressures"] *= 2.0
            weights["Patient acuity"] *= 1.5
        if (
            troubled
        ):  # short-staffed and no beds: what the troubled department's staff name, shift after shift
            weights["Staffing levels"] = 6 * max(weights["Staffing levels"], 1.0)
            weights["Bed pressures"] = 6 * max(weights["Bed pressures"], 1.0)
        return [self.tags[label] for label in weights], list(weights.values())

    def pick(
        self, department: str, colour: str, troubled: bool, winter: bool, rng: random.Random
    ) -> list[int]:
        if colour == "green":
            if rng.random() >= GREEN_TAGGED:
                return []
            return [self.tags["Teamwork" if rng.random() < 0.65 else "Recognition"]]
        count = rng.choices((0, 1, 2), TAG_COUNTS[colour])[0]
        if not count:
            return []
        ids, weights = self.profiles[(department, troubled, winter)]
        first = rng.choices(ids, weights)[0]
        if count == 1:
            return [first]
        rest = [(i, w) for i, w in zip(ids, weights, strict=True) if i != first]
        second = rng.choices([i for i, _ in rest], [w for _, w in rest])[0]
        return sorted((first, second))
