"""Follow-up: actions on concerns, SPC alerts, who subscribes to them, and their delivery (email, webhook)."""

from pulse.services.followup.actions import record_action
from pulse.services.followup.alerts import send_alerts
from pulse.services.followup.subscriptions import list_subscriptions, subscribe, unsubscribe
from pulse.services.followup.transport import SmtpSettings

__all__ = [
    "SmtpSettings",
    "list_subscriptions",
    "record_action",
    "send_alerts",
    "subscribe",
    "unsubscribe",
]
