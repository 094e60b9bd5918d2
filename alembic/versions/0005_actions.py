"""Actions ("you said, we did") on departments' timelines, alert subscriptions, and alerts sent.

Revision ID: 0005_actions
Revises: 0004_accounts
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_actions"
down_revision: str | None = "0004_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.String(length=280), nullable=False),
        sa.Column("rebase", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_action_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_action_recorded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
    )
    op.create_index(op.f("ix_action_department_id"), "action", ["department_id"], unique=False)
    op.create_table(
        "alert_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("by_email", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_alert_subscription_department_id_department"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_alert_subscription_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscription")),
        sa.UniqueConstraint(
            "user_id", "department_id", name=op.f("uq_alert_subscription_user_id_department_id")
        ),
    )
    op.create_index(op.f("ix_alert_subscription_user_id"), "alert_subscription", ["user_id"], unique=False)
    op.create_table(
        "action_reason",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["action.id"], name=op.f("fk_action_reason_action_id_action"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["reason_tag.id"], name=op.f("fk_action_reason_tag_id_reason_tag")
        ),
        sa.PrimaryKeyConstraint("action_id", "tag_id", name=op.f("pk_action_reason")),
    )
    op.create_table(
        "sent_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alert_subscription.id"],
            name=op.f("fk_sent_alert_subscription_id_alert_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_alert")),
        sa.UniqueConstraint(
            "subscription_id",
            "week_start",
            "measure",
            name=op.f("uq_sent_alert_subscription_id_week_start_measure"),
        ),
    )


def downgrade() -> None:
    op.drop_table("sent_alert")
    op.drop_table("action_reason")
    op.drop_index(op.f("ix_alert_subscription_user_id"), table_name="alert_subscription")
    op.drop_table("alert_subscription")
    op.drop_index(op.f("ix_action_department_id"), table_name="action")
    op.drop_table("action")
