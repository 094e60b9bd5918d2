"""Split each organisation shift tally over slots, so ratings at a shift's end do not queue for one row.

Revision ID: 0006_org_shift_slots
Revises: 0005_actions
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_org_shift_slots"
down_revision: str | None = "0005_actions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each shift's slots, added up into its lowest slot, which then becomes slot 0 (for the downgrade).
SAME_SHIFT = "s.shift_date = org_shift_tally.shift_date AND s.band_id = org_shift_tally.band_id"


def upgrade() -> None:
    # Existing rows become slot 0 of their shift.
    with op.batch_alter_table("org_shift_tally") as batch:
        batch.add_column(sa.Column("slot", sa.SmallInteger(), server_default="0", nullable=False))
        batch.drop_constraint("pk_org_shift_tally", type_="primary")
        batch.create_primary_key("pk_org_shift_tally", ["shift_date", "band_id", "slot"])


def downgrade() -> None:
    for colour in ("red", "amber", "green"):
        op.execute(
            f"UPDATE org_shift_tally SET {colour} = "
            f"(SELECT sum(s.{colour}) FROM org_shift_tally s WHERE {SAME_SHIFT}) "
            f"WHERE slot = (SELECT min(s.slot) FROM org_shift_tally s WHERE {SAME_SHIFT})"
        )
    op.execute(
        "DELETE FROM org_shift_tally "
        f"WHERE slot <> (SELECT min(s.slot) FROM org_shift_tally s WHERE {SAME_SHIFT})"
    )
    op.execute("UPDATE org_shift_tally SET slot = 0")
    with op.batch_alter_table("org_shift_tally") as batch:
        batch.drop_constraint("pk_org_shift_tally", type_="primary")
        batch.create_primary_key("pk_org_shift_tally", ["shift_date", "band_id"])
        batch.drop_column("slot")
