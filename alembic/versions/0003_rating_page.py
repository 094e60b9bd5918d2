"""Rating page: reasons that follow a rating, shared ward tablets (kiosks), support links after a tough shift.

Revision ID: 0003_rating_page
Revises: 0002_publication
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_rating_page"
down_revision: str | None = "0002_publication"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_link")),
        sa.UniqueConstraint("label", name=op.f("uq_support_link_label")),
    )
    op.create_table(
        "kiosk_receipt",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("taps", sa.Integer(), nullable=False),
        sa.Column("next_tap_at", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["rating_key.id"],
            name=op.f("fk_kiosk_receipt_key_id_rating_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_kiosk_receipt")),
    )
    op.create_index(op.f("ix_kiosk_receipt_key_id"), "kiosk_receipt", ["key_id"], unique=False)
    with op.batch_alter_table("request_receipt") as batch_op:
        batch_op.add_column(
            sa.Column("reasons_added", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("team") as batch_op:
        batch_op.add_column(sa.Column("kiosk_token", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_team_kiosk_token"), ["kiosk_token"])


def downgrade() -> None:
    with op.batch_alter_table("team") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_team_kiosk_token"), type_="unique")
        batch_op.drop_column("kiosk_token")
    with op.batch_alter_table("request_receipt") as batch_op:
        batch_op.drop_column("reasons_added")
    op.drop_index(op.f("ix_kiosk_receipt_key_id"), table_name="kiosk_receipt")
    op.drop_table("kiosk_receipt")
    op.drop_table("support_link")
