"""The exact audit of PRIVACY.md section 4.5: no hidden cell lies in the span of the shown cells, and every
group that can be derived from them is empty or at least k strong.

The shown cells of a bucket form a laminar family (a tree's subtrees), so their span is exactly the span of
their disjoint atoms: a hidden cell is derivable if and only if its leaves are a union of whole atoms.
For small trees, `in_span` checks the same by Gaussian elimination over the rationals, independently of
that argument; the property-based tests compare the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from pulse.services.suppression import NodeId, Tree, shown

EXACT_CHECK_MAX_LEAVES = 120  # Gaussian elimination as a second opinion on trees up to this many leaves


@dataclass
class AuditResult:
    cells: int = 0
    shown: int = 0
    hidden_with_records: int = 0
    atoms: int = 0
    exact_checks: int = 0
    problems: list[str] = field(default_factory=list)

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


def atoms_of(tree: Tree, known: set[NodeId]) -> dict[NodeId, frozenset[NodeId]]:
    """For each known cell, the leaves under it that no known cell below it covers."""
    result = {}
    for v in known:
        leaves: set[NodeId] = set()
        stack = list(tree.children[v]) or [v]
        if not tree.children[v]:
            result[v] = frozenset([v])
            continue
        while stack:
            node = stack.pop()
            if node in known:
                continue
            kids = tree.children[node]
            if kids:
                stack.extend(kids)
            else:
                leaves.add(node)
        result[v] = frozenset(leaves)
    return result


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
        n = sum(leaf_n[leaf] for leaf in leaves)
        if 0 < n < k:
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
