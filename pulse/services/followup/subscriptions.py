"""Alert subscriptions: who hears of a department's special causes of concern, by email and/or webhook."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import AlertSubscription, Department, User
from pulse.services import accounts
from pulse.services.errors import InvalidInput
from pulse.services.followup.transport import check_webhook_url


def subscribe(
    session: Session,
    user: User,
    department: Department,
    *,
    by_email: bool = True,
    webhook_url: str | None = None,
) -> AlertSubscription:
    """Subscribe an administrator, or a manager of the department, to its alerts (or change how they come)."""
    if not by_email and not webhook_url:
        raise InvalidInput("Choose email, a webhook, or both.", "by_email")
    if webhook_url:
        try:
            check_webhook_url(webhook_url)
        except ValueError as exc:
            raise InvalidInput(str(exc), "webhook_url") from exc
    if not accounts.may_act_in(user, department.id):
        raise InvalidInput(
            f"Only an active administrator or a manager of {department.name} can have its alerts.", "user"
        )
    subscription = find_subscription(session, user, department)
    if subscription is None:
        subscription = AlertSubscription(user_id=user.id, department_id=department.id)
        session.add(subscription)
    subscription.by_email = by_email
    subscription.webhook_url = webhook_url or None
    session.flush()
    return subscription


def unsubscribe(session: Session, user: User, department: Department) -> bool:
    """Stop the user's alerts for the department; False if there were none."""
    subscription = find_subscription(session, user, department)
    if subscription is None:
        return False
    session.delete(subscription)
    session.flush()
    return True


def find_subscription(session: Session, user: User, department: Department) -> AlertSubscription | None:
    return session.scalar(
        select(AlertSubscription).where(
            AlertSubscription.user_id == user.id, AlertSubscription.department_id == department.id
        )
    )


def list_subscriptions(session: Session) -> list[tuple[AlertSubscription, User, Department]]:
    rows = session.execute(
        select(AlertSubscription, User, Department)
        .join(User, User.id == AlertSubscription.user_id)
        .join(Department, Department.id == AlertSubscription.department_id)
        .order_by(Department.name, User.email)
    )
    return [(s, u, d) for s, u, d in rows]
