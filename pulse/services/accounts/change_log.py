"""The audit log: every privileged change, who made it and when. Never anything about ratings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import AuditEvent, User

COMMAND_LINE = "command line"


def record_change(
    session: Session, actor: User | None, action: str, target: str, **detail: Any
) -> AuditEvent:
    """Log a privileged change in the caller's transaction, so it commits (or not) with the change itself."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else COMMAND_LINE,
        action=action,
        target=target[:200],
        detail={key: _plain(value) for key, value in detail.items()},
    )
    session.add(event)
    session.flush()
    return event


def recent_changes(session: Session, *, limit: int = 200, before_id: int | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return list(session.scalars(stmt))


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)
