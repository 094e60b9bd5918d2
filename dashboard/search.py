"""Finding a department or team by any part of its name: ranked matches, and suggestions when nothing
matches. Pure functions of the navigation list (data.navigation()); no I/O, no Dash."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BASE = "/dashboard/"


@dataclass(frozen=True)
class Target:
    label: str  # "Emergency Department / Majors", as the search box lists it
    name: str  # "Majors"
    path: str
    kind: str  # "organisation", "department" or "team"


def targets(units: Sequence[dict[str, Any]]) -> list[Target]:
    """The whole organisation, each department and each team, in the order the search box lists them."""
    found = [Target("Whole organisation", "Whole organisation", BASE, "organisation")]
    for department in units:
        found.append(
            Target(
                department["name"], department["name"], f"{BASE}department/{department['id']}", "department"
            )
        )
        found.extend(
            Target(f"{department['name']} / {team['name']}", team["name"], f"{BASE}team/{team['id']}", "team")
            for team in department["teams"]
        )
    return found


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def matches(units: Sequence[dict[str, Any]], query: str) -> list[Target]:
    """Every unit whose name holds what was typed, anywhere in it, best first: the name itself, then names
    that start with it, then names with a word that starts with each word typed (a team's department's words
    count too: "acute ward"), then names that hold it anywhere ("ed" in "Medicine")."""
    wanted = normalise(query)
    if not wanted:
        return []
    words = wanted.split()
    ranked: list[tuple[int, int, Target]] = []
    for order, target in enumerate(targets(units)):
        label, name = normalise(target.label), normalise(target.name)
        if wanted in (label, name):
            rank = 0
        elif name.startswith(wanted) or label.startswith(wanted):
            rank = 1
        elif all(any(part.startswith(word) for part in label.replace("/", " ").split()) for word in words):
            rank = 2
        elif wanted in name:
            rank = 3
        else:
            continue
        ranked.append((rank, order, target))
    return [target for _, _, target in sorted(ranked, key=lambda item: (item[0], item[1]))]


def destination(units: Sequence[dict[str, Any]], query: str) -> str | None:
    """Where the search box's Go takes you straight away: the one unit with exactly that name, or the only
    unit whose name holds what was typed. None: show the matches (or suggestions) instead."""
    found = matches(units, query)
    exact = [t for t in found if normalise(query) in (normalise(t.label), normalise(t.name))]
    if len(exact) == 1:
        return exact[0].path
    return found[0].path if len(found) == 1 else None


def suggestions(units: Sequence[dict[str, Any]], query: str, limit: int = 5) -> list[Target]:
    """Names close to a query that matches nothing (a typo, say), by similarity."""
    every = targets(units)[1:]
    by_name: dict[str, Target] = {}
    for target in every:
        by_name.setdefault(normalise(target.name), target)
        by_name.setdefault(normalise(target.label), target)
    close = difflib.get_close_matches(normalise(query), list(by_name), n=limit, cutoff=0.5)
    seen: list[Target] = []
    for name in close:
        if by_name[name] not in seen:
            seen.append(by_name[name])
    return seen
