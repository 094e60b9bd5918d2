"""Publication: closed weeks published as suppressed cells, the suppression rules, their audit, today."""

from pulse.services.publication.audit import audit_published, audit_tree, in_span, node_of, rank
from pulse.services.publication.publish import (
    build_trees,
    due_weeks,
    publish_due,
    publish_week,
    week_closes_at,
)
from pulse.services.publication.suppression import (
    Cell,
    Tree,
    atom,
    highest_published_below,
    primary_only,
    shown,
    suppress,
)
from pulse.services.publication.today import due_steps, take_due_steps

__all__ = [
    "Cell",
    "Tree",
    "atom",
    "audit_published",
    "audit_tree",
    "build_trees",
    "due_steps",
    "due_weeks",
    "highest_published_below",
    "in_span",
    "node_of",
    "primary_only",
    "publish_due",
    "publish_week",
    "rank",
    "shown",
    "suppress",
    "take_due_steps",
    "week_closes_at",
]
