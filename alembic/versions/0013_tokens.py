"""Anonymous tokens: a random seed per ISO week, and issuance records (to whom, peppered; never when).

Revision ID: 0013_tokens
Revises: 0012_dashboard_device_generation
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_tokens"
down_revision: str | None = "0012_dashboard_device_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_seed",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_check", sa.LargeBinary(length=32), nullable=False),
        sa.Column("reissued_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_token_seed")),
    )
    op.create_table(
        "token_issuance",
        sa.Column("holder", sa.LargeBinary(length=32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("blinded_digest", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["week_start"],
            ["token_seed.week_start"],
            name=op.f("fk_token_issuance_week_start_token_seed"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_token_issuance")),
    )
    op.create_index(op.f("ix_token_issuance_week_start"), "token_issuance", ["week_start"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_token_issuance_week_start"), table_name="token_issuance")
    op.drop_table("token_issuance")
    op.drop_table("token_seed")
