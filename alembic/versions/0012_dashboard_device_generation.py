"""Staff devices' dashboard cookies carry an organisation-wide generation, which an administrator can raise
to end them all.

Revision ID: 0012_dashboard_device_generation
Revises: 0011_sealed_inbox
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_dashboard_device_generation"
down_revision: str | None = "0011_sealed_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation_settings") as batch:
        batch.add_column(sa.Column("dashboard_generation", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("organisation_settings") as batch:
        batch.drop_column("dashboard_generation")
