"""Publication: frozen weekly buckets of published cells and reason counts; "today so far" steps.

Revision ID: 0002_publication
Revises: 0001_core
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_publication"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ("organisation", "department", "team", "day", "shift")
LEVEL = sa.Enum(*LEVELS, name="published_level")
# The second table reuses the type the first one created (PostgreSQL); elsewhere this is a plain VARCHAR.
LEVEL_AGAIN = postgresql.ENUM(*LEVELS, name="published_level", create_type=False)


def upgrade() -> None:
    op.create_table(
        "published_week",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_week")),
        sa.UniqueConstraint("week_start", name=op.f("uq_published_week_week_start")),
    )
    op.create_table(
        "published_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_id", sa.Integer(), nullable=False),
        sa.Column("level", LEVEL, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=True),
        sa.Column("amber", sa.Integer(), nullable=True),
        sa.Column("green", sa.Integer(), nullable=True),
        sa.Column("contributors", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["published_week.id"],
            name=op.f("fk_published_cell_week_id_published_week"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_cell")),
        sa.UniqueConstraint(
            "week_id",
            "level",
            "unit_id",
            "period",
            name=op.f("uq_published_cell_week_id_level_unit_id_period"),
        ),
    )
    op.create_index("ix_published_cell_level_unit", "published_cell", ["level", "unit_id"])
    op.create_index("ix_published_cell_level_parent", "published_cell", ["level", "parent_id", "period"])
    op.create_table(
        "published_reason",
        sa.Column("week_id", sa.Integer(), nullable=False),
        sa.Column("level", LEVEL_AGAIN, nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["reason_tag.id"], name=op.f("fk_published_reason_tag_id_reason_tag")
        ),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["published_week.id"],
            name=op.f("fk_published_reason_week_id_published_week"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("week_id", "level", "unit_id", "tag_id", name=op.f("pk_published_reason")),
    )
    op.create_table(
        "today_snapshot",
        sa.Column("shift_date", sa.Date(), nullable=False),
        sa.Column("band_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("amber", sa.Integer(), nullable=False),
        sa.Column("green", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["band_id"], ["shift_band.id"], name=op.f("fk_today_snapshot_band_id_shift_band")
        ),
        sa.PrimaryKeyConstraint("shift_date", "band_id", "step", name=op.f("pk_today_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("today_snapshot")
    op.drop_table("published_reason")
    op.drop_index("ix_published_cell_level_parent", table_name="published_cell")
    op.drop_index("ix_published_cell_level_unit", table_name="published_cell")
    op.drop_table("published_cell")
    op.drop_table("published_week")
    LEVEL.drop(op.get_bind(), checkfirst=True)
