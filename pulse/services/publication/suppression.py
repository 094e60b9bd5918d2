"""Suppression on one bucket's tree (docs/anonymity.md A23, A24): primary suppression and the atom rule.

Pure functions over plain data, so that the same code runs in publication, in the audit and in the
property-based tests.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field

NodeId = Hashable


@dataclass(frozen=True)
class Cell:
    """One (unit, bucket) figure: colour counts, people (n), and the configured headcount if any."""

    id: NodeId
    parent: NodeId | None
    red: int = 0
    amber: int = 0
    green: int = 0
    n: int = 0
    headcount: int | None = None

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.red, self.amber, self.green, self.n)


@dataclass
class Tree:
    """A bucket's cells as a tree: the root has parent None; a parent's counts are its children's sum."""

    cells: dict[NodeId, Cell]
    children: dict[NodeId, list[NodeId]] = field(default_factory=dict)
    depth: dict[NodeId, int] = field(default_factory=dict)
    root: NodeId | None = None

    @classmethod
    def build(cls, cells: Iterable[Cell]) -> Tree:
        by_id = {c.id: c for c in cells}
        tree = cls(by_id, {i: [] for i in by_id})
        for cell in by_id.values():
            if cell.parent is None:
                if tree.root is not None:
                    raise ValueError("a tree has one root")
                tree.root = cell.id
            else:
                tree.children[cell.parent].append(cell.id)
        if tree.root is None:
            raise ValueError("a tree needs a root")
        stack = [(tree.root, 0)]
        while stack:
            node, d = stack.pop()
            tree.depth[node] = d
            stack.extend((c, d + 1) for c in tree.children[node])
        if len(tree.depth) != len(by_id):
            raise ValueError("every cell must hang from the root")
        return tree

    def leaves_under(self, node: NodeId, covered: Collection[NodeId] = ()) -> list[NodeId]:
        """The leaves under `node` (itself, if it is one), less those a cell of `covered` below it holds."""
        out, stack = [], [node]
        while stack:
            current = stack.pop()
            if current != node and current in covered:
                continue
            kids = self.children[current]
            if kids:
                stack.extend(kids)
            else:
                out.append(current)
        return out


def primary_hidden(tree: Tree, k: int) -> set[NodeId]:
    """Cells with 1..k-1 contributors, whose unit's headcount is below k, or (teams) with more contributors
    than their headcount: someone added ratings of their own (open mode lets anyone with the link), so the
    group is not what it seems (docs/anonymity.md A9)."""
    over = set(over_headcount(tree))
    return {
        c.id
        for c in tree.cells.values()
        if 0 < c.n < k or (c.headcount is not None and c.headcount < k) or c.id in over
    }


def over_headcount(tree: Tree) -> list[NodeId]:
    """Leaf cells (teams) with more contributors than their headcount. Only leaves count people themselves:
    a department's figures are its teams' sums, so an overfull team is what makes it overfull."""
    return [
        c.id
        for c in tree.cells.values()
        if c.headcount is not None and c.n > c.headcount and not tree.children[c.id]
    ]


def highest_published_below(tree: Tree, node: NodeId, published: set[NodeId]) -> list[NodeId]:
    """D(v): the published cells strictly below `node` with no published cell between them and `node`."""
    out, stack = [], list(tree.children[node])
    while stack:
        current = stack.pop()
        if current in published:
            out.append(current)
        else:
            stack.extend(tree.children[current])
    return out


def atom(tree: Tree, node: NodeId, published: set[NodeId]) -> tuple[int, int, int, int]:
    """What remains of `node` (red, amber, green, n) after removing its highest published sub-cells."""
    totals = list(tree.cells[node].counts)
    for below in highest_published_below(tree, node, published):
        for i, value in enumerate(tree.cells[below].counts):
            totals[i] -= value
    return (totals[0], totals[1], totals[2], totals[3])


def atom_people(tree: Tree, node: NodeId, published: set[NodeId]) -> int:
    """The fewest people atom(node) can hold.

    Where people add up down the tree (a department's contributors are its teams'), that is n(node) less the
    n of its highest published sub-cells. Where they do not (an organisation day's distinct contributors
    against its shifts' ratings: one person may rate two shifts of a day), that difference can understate
    the atom, and the atom holds at least as many people as the part of any unpublished cell inside it
    that no published cell covers.
    """
    bound = _uncovered(tree, node, published)
    stack = list(tree.children[node])
    while stack:
        current = stack.pop()
        if current not in published:
            bound = max(bound, _uncovered(tree, current, published))
            stack.extend(tree.children[current])
    return bound


def _uncovered(tree: Tree, node: NodeId, published: set[NodeId]) -> int:
    below = highest_published_below(tree, node, published)
    return tree.cells[node].n - sum(tree.cells[d].n for d in below)


def _atom_ratings(tree: Tree, node: NodeId, published: set[NodeId]) -> int:
    red, amber, green, _n = atom(tree, node, published)
    return red + amber + green


def suppress(tree: Tree, k: int, *, keep: Iterable[NodeId] = ()) -> set[NodeId]:
    """The cells that may be published: primary suppression, then the atom rule until every atom is 0 or >= k.

    `keep` cells are already public (the organisation's "today so far" steps) and can never be hidden; the
    rule hides other cells around them. If only hiding a kept cell could help, nothing but the kept cells is
    published. Each step hides one more cell, so the loop ends.
    """
    kept = set(keep)
    published = (set(tree.cells) - primary_hidden(tree, k)) | kept
    # A unit hidden for its small headcount may hold k or more contributors; its records must then never be a
    # whole atom on their own, or subtraction would reveal them.
    guarded = {_records_under(tree, v) for v in tree.cells if v not in published and tree.cells[v].n >= k}
    while True:
        bad = [
            v
            for v in published
            if (_atom_ratings(tree, v, published) > 0 and atom_people(tree, v, published) < k)
            or (guarded and _atom_records(tree, v, published) in guarded)
        ]
        if not bad:
            return _show_derivable(tree, published, primary_hidden(tree, k))
        v = max(bad, key=lambda node: (tree.depth[node], str(node)))  # deepest first; ties in a fixed order
        # "Holds records" is N(d) > 0 (docs/anonymity.md A24). (The brief's pseudo-code: N(atom(d)) > 0, which
        # would hide a whole week whenever every day under it is fully covered by its bands; hiding such a d
        # instead lets its sub-cells join the candidates on the next pass.)
        holding = [
            d for d in highest_published_below(tree, v, published) if d not in kept and tree.cells[d].n > 0
        ]
        if holding:
            smallest = min(holding, key=lambda d: (tree.cells[d].n, str(d)))
            published.discard(smallest)  # its records join v's atom
        elif v in kept:
            return kept
        else:
            published.discard(v)  # v's atom joins its nearest published ancestor's


def _show_derivable(tree: Tree, published: set[NodeId], primary: set[NodeId]) -> set[NodeId]:
    """Show again any hidden cell that is exactly the sum of published cells below it.

    Hiding such a cell on the way (to reach the cells below it) protects nothing once the loop is done: its
    figures can be added up from what is shown. Showing it adds nothing to what can be derived, and keeps the
    audit's promise that no hidden cell can be worked out.
    """
    changed = True
    while changed:
        changed = False
        for v in sorted(
            set(tree.cells) - published - primary, key=lambda node: (-tree.depth[node], str(node))
        ):
            if tree.cells[v].n > 0 and tree.children[v] and atom(tree, v, published)[:3] == (0, 0, 0):
                published.add(v)
                changed = True
    return published


def _records_under(tree: Tree, node: NodeId) -> frozenset[NodeId]:
    return frozenset(leaf for leaf in tree.leaves_under(node) if tree.cells[leaf].n > 0)


def _atom_records(tree: Tree, node: NodeId, published: set[NodeId]) -> frozenset[NodeId]:
    """The leaves holding records in atom(node)."""
    return frozenset(leaf for leaf in tree.leaves_under(node, published) if tree.cells[leaf].n > 0)


def primary_only(tree: Tree, k: int) -> set[NodeId]:
    """Only the primary rule: shown to leak by subtraction (kept for the tests and the audit's comparison)."""
    return set(tree.cells) - primary_hidden(tree, k)


def shown(tree: Tree, published: set[NodeId]) -> set[NodeId]:
    """Published cells that show figures; a published cell with no ratings looks empty, like a hidden one."""
    return {v for v in published if tree.cells[v].n > 0}


def leaf_values(tree: Tree) -> Mapping[NodeId, tuple[int, int, int, int]]:
    return {v: tree.cells[v].counts for v in tree.cells if not tree.children[v]}
