"""Which rating mode each published week's figures come from (open or verified), and since when the
organisation has rated in its current mode, so that publication can tell.

Weeks published before this revision were rated with the join code alone (verified rating spends tokens from
this release on), so they are open. An organisation already switched to verified counts as verified from the
day of the upgrade.

Revision ID: 0014_rating_mode_history
Revises: 0013_tokens
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_rating_mode_history"
down_revision: str | None = "0013_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation_settings") as batch:
        batch.add_column(sa.Column("rating_mode_since", sa.Date(), nullable=True))
    op.execute(
        "UPDATE organisation_settings SET rating_mode_since = CURRENT_DATE WHERE rating_mode = 'verified'"
    )
    with op.batch_alter_table("published_week") as batch:
        batch.add_column(
            sa.Column(
                "rating_mode",
                sa.Enum("open", "verified", name="rating_mode", create_type=False),
                server_default="open",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("published_week") as batch:
        batch.drop_column("rating_mode")
    with op.batch_alter_table("organisation_settings") as batch:
        batch.drop_column("rating_mode_since")
