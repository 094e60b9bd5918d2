"""What an attack on storage recovered, and how much is finer than the tallies (docs/anonymity.md A10-A12).

An attack returns `Recovered` ratings: each pins down whichever fields the attack could (team, shift date,
band, colour, reasons, arrival order) and leaves the others None. `score` matches them against the ratings
the scenario really made and counts what the published grains do not already give away.

The criterion, precisely. Storage may reveal the tallies of docs/anonymity.md A2 (team x ISO week x colour,
team x ISO week contributors, team x ISO week x reason tag, organisation x shift date x band x colour) and
nothing finer. A recovered rating is *correct* when a true rating agrees with every field it pins; each true
rating is matched to at most one recovered one (a maximum matching, so the count is the most the attack can
claim). Among the correct ones, counted only for the true ratings the level protects:

- **links**: a team tied to a shift date and band (with the colour, if pinned). The tallies force some links:
  in the week's 2-way table of teams by shifts (per colour, if the colour is pinned) with margins T (the
  team's ratings) and O (the shift's), of N in all, at least max(0, T + O - N) of the team's ratings lie in
  that shift whatever else is true. Links beyond that minimum are counted.
- **colours**: a team's rating singled out (by its order or its reasons) with its colour, where the team's
  week was not all that colour. Ratings that come with the same order are a batch: a batch that holds all of
  the team's week (a week's tally written at once) singles nothing out; it is the tally.
- **reasons**: a team's rating with its reason tags tied to its colour, shift or order, where not every one of
  the team's ratings that week named those tags (nor, for a colour alone, had that colour).
- **ordered**: ratings whose arrival order was recovered. The calendar order of shifts is public, and rows
  that pin the same fields cannot be told apart, so only pairs of recovered ratings that differ in team,
  colour or reasons, in the same ISO week, say anything about order. If at least 8 ratings are in such pairs
  and the pairs' Kendall tau against the true arrival order is 0.8 or more (chance gives that for under 1 in
  1,000 orders of 8), every rating in them counts; otherwise 0. (Recovered ratings alike but for their order
  are paired with their true ratings in order, which only ever helps the attack.)

Reason tags often come in a second request: a recovered rating that pins reasons and no colour is matched on
its own (a second matching), and counts towards reasons only.

`recovered` is the headline figure: how many protected ratings came back whole (team, date, band and colour
all correct). The attacks pass when links, colours, reasons and ordered are all zero.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

COLOURS = ("red", "amber", "green")
TAU_NEEDED = 0.8
ORDER_MINIMUM = 8


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Rating:
    """A rating the scenario made and had acknowledged: the ground truth."""

    team: int
    shift_date: dt.date
    band: int
    colour: str
    reasons: frozenset[int]
    order: int  # its place in the order of acknowledgement, from 0
    acknowledged_at: dt.datetime

    @property
    def week(self) -> dt.date:
        return week_of(self.shift_date)


@dataclass(frozen=True)
class Recovered:
    """One rating as an attack rebuilt it; None where the attack could not tell."""

    team: int | None = None
    shift_date: dt.date | None = None
    band: int | None = None
    colour: str | None = None
    reasons: frozenset[int] | None = None  # the tags the attack saw; a subset of the true ones
    order: float | None = None  # any scale, consistent within one attack; later is larger
    week: dt.date | None = None  # the team's ISO week, when the attack knows it but not the date

    def fits(self, rating: Rating) -> bool:
        pinned = (
            (self.team, rating.team),
            (self.shift_date, rating.shift_date),
            (self.band, rating.band),
            (self.colour, rating.colour),
            (self.week, rating.week),
        )
        if any(mine is not None and mine != true for mine, true in pinned):
            return False
        return self.reasons is None or (bool(self.reasons) and self.reasons <= rating.reasons)


@dataclass
class Tallies:
    """The published grains, worked out from the ground truth (the attacker may know all of them)."""

    team: Counter = field(default_factory=Counter)  # (team, week, colour) -> ratings
    team_total: Counter = field(default_factory=Counter)  # (team, week)
    shift: Counter = field(default_factory=Counter)  # (date, band, colour)
    shift_total: Counter = field(default_factory=Counter)  # (date, band)
    week: Counter = field(default_factory=Counter)  # (week, colour)
    week_total: Counter = field(default_factory=Counter)  # week
    reason: Counter = field(default_factory=Counter)  # (team, week, tag)

    @classmethod
    def of(cls, ratings: Iterable[Rating]) -> Tallies:
        t = cls()
        for r in ratings:
            t.team[(r.team, r.week, r.colour)] += 1
            t.team_total[(r.team, r.week)] += 1
            t.shift[(r.shift_date, r.band, r.colour)] += 1
            t.shift_total[(r.shift_date, r.band)] += 1
            t.week[(r.week, r.colour)] += 1
            t.week_total[r.week] += 1
            for tag in r.reasons:
                t.reason[(r.team, r.week, tag)] += 1
        return t

    def forced_links(self, team: int, day: dt.date, band: int, colour: str | None) -> int:
        """The fewest of the team's ratings (of `colour`, if given) that the tallies put in this shift."""
        week = week_of(day)
        if colour is None:
            t, o, n = self.team_total[(team, week)], self.shift_total[(day, band)], self.week_total[week]
        else:
            t, o, n = (
                self.team[(team, week, colour)],
                self.shift[(day, band, colour)],
                self.week[(week, colour)],
            )
        return max(0, t + o - n)

    def all_one_colour(self, team: int, week: dt.date, colour: str) -> bool:
        return self.team[(team, week, colour)] == self.team_total[(team, week)]

    def all_named(self, team: int, week: dt.date, tags: Iterable[int]) -> bool:
        return all(self.reason[(team, week, tag)] == self.team_total[(team, week)] for tag in tags)


@dataclass
class Findings:
    """What an attack pinned down beyond the tallies, of `protected` ratings (see the module docstring)."""

    attack: str
    protected: int
    recovered: int = 0
    links: int = 0
    colours: int = 0
    reasons: int = 0
    ordered: int = 0
    claims: int = 0
    correct: int = 0  # claims that fit some true rating
    order_tau: float | None = None

    @property
    def beyond_tallies(self) -> int:
        return self.links + self.colours + self.reasons + self.ordered

    def report(self) -> str:
        tau = "" if self.order_tau is None else f" (tau {self.order_tau:.2f})"
        return (
            f"{self.attack}: recovered {self.recovered} of {self.protected} ratings whole; beyond the "
            f"tallies: {self.links} team-shift links, {self.colours} colours, {self.reasons} reason sets, "
            f"{self.ordered} in arrival order{tau}; {self.correct} of {self.claims} claims correct"
        )


def score(
    attack: str,
    truth: Sequence[Rating],
    claims: Sequence[Recovered],
    *,
    protected: Callable[[Rating], bool] = lambda _rating: True,
) -> Findings:
    """Count what `claims` reveal beyond the tallies about the `protected` ones of `truth`."""
    tallies = Tallies.of(truth)
    ratings = [c for c in claims if not (c.reasons and c.colour is None)]
    reasons_only = [c for c in claims if c.reasons and c.colour is None]
    matched = _in_order(_match(truth, ratings), truth, ratings)
    extra = _match(truth, reasons_only)
    findings = Findings(
        attack,
        sum(1 for r in truth if protected(r)),
        claims=len(claims),
        correct=sum(1 for claim in claims if any(claim.fits(rating) for rating in truth)),
    )
    rating_pairs = [(ratings[q], truth[r]) for q, r in matched.items() if protected(truth[r])]
    pairs = rating_pairs + [(reasons_only[q], truth[r]) for q, r in extra.items() if protected(truth[r])]

    # How many of each team-week's recovered ratings share one order: a batch of the whole week is its tally.
    batch = Counter((rating.team, rating.week, claim.order) for claim, rating in rating_pairs)
    whole: set[int] = set()
    links: dict[tuple, set[int]] = defaultdict(set)
    colours: set[int] = set()
    reasons: set[int] = set()
    for claim, rating in pairs:
        linked = claim.team is not None and claim.shift_date is not None and claim.band is not None
        if linked and claim.colour is not None:
            whole.add(rating.order)
        if linked:
            links[(rating.team, rating.shift_date, rating.band, claim.colour)].add(rating.order)
        whole_week = (
            batch[(rating.team, rating.week, claim.order)] == tallies.team_total[(rating.team, rating.week)]
        )
        singled_out = (claim.order is not None and not whole_week) or bool(claim.reasons)
        lone = claim.team is not None and claim.colour is not None and singled_out and not linked
        if lone and not tallies.all_one_colour(rating.team, rating.week, rating.colour):
            colours.add(rating.order)
        tied = claim.colour is not None or claim.shift_date is not None or claim.order is not None
        if claim.team is not None and claim.reasons and tied:
            forced = tallies.all_named(rating.team, rating.week, claim.reasons) or (
                claim.shift_date is None
                and claim.order is None
                and claim.colour is not None
                and tallies.all_one_colour(rating.team, rating.week, claim.colour)
            )
            if not forced:
                reasons.add(rating.order)
    # A link pinned with its colour and the same link without it are one link, counted once.
    by_shift: dict[tuple, set[int]] = defaultdict(set)
    for (team, day, band, colour), found in links.items():
        if colour is not None:
            findings.links += max(0, len(found) - tallies.forced_links(team, day, band, colour))
        else:
            by_shift[(team, day, band)] |= found
    for (team, day, band), found in by_shift.items():
        coloured = set().union(*(links.get((team, day, band, c), set()) for c in COLOURS))
        findings.links += max(0, len(found - coloured) - tallies.forced_links(team, day, band, None))
    findings.recovered, findings.colours, findings.reasons = len(whole), len(colours), len(reasons)

    ordered = [(claim, rating) for claim, rating in rating_pairs if claim.order is not None]
    telling, in_pairs = _telling_pairs(ordered)
    if telling:
        findings.order_tau = kendall_tau(telling)
        if len(in_pairs) >= ORDER_MINIMUM and findings.order_tau >= TAU_NEEDED:
            findings.ordered = len(in_pairs)
    return findings


def _telling_pairs(
    ordered: list[tuple[Recovered, Rating]],
) -> tuple[list[tuple[float, int]], set[int]]:
    """Pairs of (claimed order difference, true order difference) that say something about arrival order."""
    telling: list[tuple[float, int]] = []
    involved: set[int] = set()
    for i, (a, ra) in enumerate(ordered):
        for b, rb in ordered[i + 1 :]:
            if ra.week != rb.week or not _differ(a, b):
                continue
            assert a.order is not None and b.order is not None
            telling.append((a.order - b.order, ra.order - rb.order))
            involved |= {ra.order, rb.order}
    return telling, involved


def _differ(a: Recovered, b: Recovered) -> bool:
    return any(
        x is not None and y is not None and x != y
        for x, y in ((a.team, b.team), (a.colour, b.colour), (a.reasons, b.reasons))
    )


def kendall_tau(differences: Sequence[tuple[float, int]]) -> float:
    """Kendall's tau-a over (claimed, true) order differences of pairs; a claimed tie counts neither way."""
    concordant = sum(1 for claimed, true in differences if claimed * true > 0)
    discordant = sum(1 for claimed, true in differences if claimed * true < 0)
    return (concordant - discordant) / len(differences)


def _signature(claim: Recovered) -> tuple:
    return (claim.team, claim.shift_date, claim.band, claim.colour, claim.reasons, claim.week)


def _in_order(
    matched: dict[int, int], truth: Sequence[Rating], claims: Sequence[Recovered]
) -> dict[int, int]:
    """Claims alike but for their order, paired with their true ratings in the same order."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for q in matched:
        groups[_signature(claims[q])].append(q)
    paired: dict[int, int] = {}
    for qs in groups.values():
        by_claim = sorted(qs, key=lambda q: (claims[q].order is None, claims[q].order or 0))
        by_truth = sorted((matched[q] for q in qs), key=lambda r: truth[r].order)
        paired.update(zip(by_claim, by_truth, strict=True))
    return paired


def _match(truth: Sequence[Rating], claims: Sequence[Recovered]) -> dict[int, int]:
    """A maximum matching of claims to the true ratings they fit (Kuhn's augmenting paths)."""
    fits = [[r for r, rating in enumerate(truth) if claim.fits(rating)] for claim in claims]
    owner: dict[int, int] = {}  # true rating -> claim

    def augment(q: int, seen: set[int]) -> bool:
        for r in fits[q]:
            if r in seen:
                continue
            seen.add(r)
            if r not in owner or augment(owner[r], seen):
                owner[r] = q
                return True
        return False

    for q in sorted(range(len(claims)), key=lambda q: len(fits[q])):
        if fits[q]:
            augment(q, set())
    return {q: r for r, q in owner.items()}
