"""The exact audit of docs/anonymity.md A27: no hidden cell lies in the span of the shown cells, and every
group that can be derived from them is empty or at least k strong.

The shown cells of a bucket form a laminar family (a tree's subtrees), so their span is exactly the span of
their disjoint atoms: a hidden cell is derivable if and only if its leaves are a union of whole atoms.
For small trees, `in_span` checks the same by Gaussian elimination over the rationals, independently of
that argument; the property-based tests compare the two.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import Level, PublishedCell, PublishedWeek
from pulse.services.publication.publish import ROOT, Node, build_trees
from pulse.services.publication.suppression import NodeId, Tree, atom_people, over_headcount, shown

EXACT_CHECK_MAX_LEAVES = 120  # Gaussian elimination as a second opinion on trees up to this many leaves


@dataclass
class AuditResult:
    cells: int = 0
    shown: int = 0
    hidden_with_records: int = 0
    atoms: int = 0
    exact_checks: int = 0
    problems: list[str] = field(default_factory=list)
    # Not leaks: groups with more contributors than people, hidden for it (someone may be adding ratings).
    flags: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def merge(self, other: AuditResult) -> None:
        self.cells += other.cells
        self.shown += other.shown
        self.hidden_with_records += other.hidden_with_records
        self.atoms += other.atoms
        self.exact_checks += other.exact_checks
        self.problems.extend(other.problems)
        self.flags.extend(other.flags)


def atoms_of(tree: Tree, known: set[NodeId]) -> dict[NodeId, frozenset[NodeId]]:
    """For each known cell, the leaves under it that no known cell below it covers."""
    return {v: frozenset(tree.leaves_under(v, known)) for v in known}


def audit_tree(tree: Tree, published: set[NodeId], k: int, *, label: str = "") -> AuditResult:
    known = shown(tree, published)
    leaf_n = {v: tree.cells[v].n for v in tree.cells if not tree.children[v]}
    result = AuditResult(cells=len(tree.cells), shown=len(known))
    atoms = atoms_of(tree, known)
    owner: dict[NodeId, NodeId] = {}
    for v, leaves in atoms.items():
        if not leaves:
            continue
        result.atoms += 1
        ratings = sum(sum(tree.cells[leaf].counts[:3]) for leaf in leaves)
        n = atom_people(tree, v, known)
        if ratings > 0 and n < k:
            result.problems.append(f"{label}derivable group of {n} (< k={k}) under {v!r}")
        for leaf in leaves:
            owner[leaf] = v
    hidden = [v for v in tree.cells if v not in known and tree.cells[v].n > 0]
    result.hidden_with_records = len(hidden)
    small = len(leaf_n) <= EXACT_CHECK_MAX_LEAVES
    order = sorted(leaf_n, key=str)
    rows = [_indicator(tree, v, order) for v in sorted(known, key=str)] if small else []
    base_rank = rank(rows) if small else 0
    for h in hidden:
        leaves = frozenset(tree.leaves_under(h))
        derivable = all(leaf in owner for leaf in leaves) and all(
            atoms[owner[leaf]] <= leaves for leaf in leaves
        )
        if small:
            result.exact_checks += 1
            exact = rank([*rows, _indicator(tree, h, order)]) == base_rank
            if exact != derivable:
                result.problems.append(f"{label}atom and rank checks disagree on {h!r}")
            derivable = derivable or exact
        if derivable:
            result.problems.append(f"{label}hidden cell {h!r} can be worked out from the cells shown")
    return result


def _indicator(tree: Tree, node: NodeId, order: Sequence[NodeId]) -> list[int]:
    leaves = set(tree.leaves_under(node))
    return [1 if leaf in leaves else 0 for leaf in order]


def rank(rows: Iterable[Sequence[int]]) -> int:
    """Exact rank over the rationals (Gaussian elimination with Fractions)."""
    matrix = [[Fraction(x) for x in row] for row in rows]
    if not matrix:
        return 0
    r = 0
    for col in range(len(matrix[0])):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        for i in range(len(matrix)):
            if i != r and matrix[i][col] != 0:
                factor = matrix[i][col] / matrix[r][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        r += 1
        if r == len(matrix):
            break
    return r


def in_span(rows: Sequence[Sequence[int]], target: Sequence[int]) -> bool:
    """Whether `target` is a rational combination of `rows`: adding it does not raise the rank."""
    return rank([*rows, target]) == rank(rows)


# `pulse audit`: the exact audit run over every published week, as the data stand now.


def node_of(cell: PublishedCell) -> Node:
    if cell.level == Level.ORGANISATION:
        return ROOT
    if cell.level == Level.TEAM:
        return (Level.TEAM, cell.unit_id, cell.parent_id)
    if cell.level == Level.DEPARTMENT:
        return (Level.DEPARTMENT, cell.unit_id, 0)
    return (cell.level, cell.unit_id, cell.period)


def audit_published(session: Session) -> tuple[int, AuditResult]:
    """Audit each published week with the structure it was published with. Returns (weeks, result)."""
    total = AuditResult()
    weeks = session.scalars(select(PublishedWeek).order_by(PublishedWeek.week_start)).all()
    for week in weeks:
        cells = session.scalars(select(PublishedCell).where(PublishedCell.week_id == week.id)).all()
        frozen = {c.unit_id: c.parent_id for c in cells if c.level == Level.TEAM and c.parent_id is not None}
        shown: set[Hashable] = {node_of(c) for c in cells if c.red is not None}
        trees = build_trees(session, week.week_start, frozen=frozen)
        shown |= trees.kept  # "today so far" steps were public as they were taken
        label = f"week of {week.week_start}: "
        total.merge(audit_tree(trees.units, shown & set(trees.units.cells), week.k, label=label))
        total.flags.extend(
            f"{label}{trees.names.get(cast(Node, node), node)} had more contributors than its headcount: "
            "hidden (someone may have added ratings of their own)"
            for node in over_headcount(trees.units)
        )
        total.merge(audit_tree(trees.times, shown & set(trees.times.cells), week.k, label=label))
    return len(weeks), total
