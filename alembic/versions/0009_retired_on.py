"""Record the date a team or a shift band was retired, so that its last weeks keep it whether rated or not.

Units retired before this migration get today's date: the weeks not yet published up to today keep them
(as empty rows where they hold nothing), so that none of those weeks shows which of them were rated.

Revision ID: 0009_retired_on
Revises: 0006_org_shift_slots
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_retired_on"
# Issue 17: the lead re-parents this onto the last migration before it when the branches merge.
down_revision: str | None = "0006_org_shift_slots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("team", "shift_band")


# Plain ALTER TABLE on both databases (SQLite has dropped columns since 3.35): a batch operation would copy
# these tables, which other tables' foreign keys point at.


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("retired_on", sa.Date(), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET retired_on = CURRENT_DATE WHERE NOT active"))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "retired_on")
