"""Core: organisation structure, tallies, rotating keys and their digests.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_core"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_PURPOSE = sa.Enum("shift", "week", "request", name="key_purpose")


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("name", name=op.f("uq_department_name")),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("join_code", sa.String(length=32), nullable=False),
        sa.CheckConstraint("headcount >= 0", name=op.f("ck_team_headcount_not_negative")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_team_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("department_id", "name", name=op.f("uq_team_department_id_name")),
        sa.UniqueConstraint("join_code", name=op.f("uq_team_join_code")),
    )
    op.create_index(op.f("ix_team_department_id"), "team", ["department_id"])
    op.create_table(
        "shift_band",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("start_time <> end_time", name=op.f("ck_shift_band_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_band")),
        sa.UniqueConstraint("name", name=op.f("uq_shift_band_name")),
    )
    op.create_table(
        "reason_tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reason_tag")),
        sa.UniqueConstraint("label", name=op.f("uq_reason_tag_label")),
    )

    # Tallies: counters only. One row per (team, week) and per (date, band), all colours as columns.
    op.create_table(
        "team_week_tally",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("amber", sa.Integer(), nullable=False),
        sa.Column("green", sa.Integer(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_team_week_tally_team_id_team")),
        sa.PrimaryKeyConstraint("team_id", "week_start", name=op.f("pk_team_week_tally")),
    )
    op.create_index(op.f("ix_team_week_tally_week_start"), "team_week_tally", ["week_start"])
    op.create_table(
        "team_week_reason_tally",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["reason_tag.id"], name=op.f("fk_team_week_reason_tally_tag_id_reason_tag")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_week_reason_tally_team_id_team")
        ),
        sa.PrimaryKeyConstraint("team_id", "week_start", "tag_id", name=op.f("pk_team_week_reason_tally")),
    )
    op.create_index(op.f("ix_team_week_reason_tally_week_start"), "team_week_reason_tally", ["week_start"])
    op.create_table(
        "org_shift_tally",
        sa.Column("shift_date", sa.Date(), nullable=False),
        sa.Column("band_id", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("amber", sa.Integer(), nullable=False),
        sa.Column("green", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["band_id"], ["shift_band.id"], name=op.f("fk_org_shift_tally_band_id_shift_band")
        ),
        sa.PrimaryKeyConstraint("shift_date", "band_id", name=op.f("pk_org_shift_tally")),
    )

    # Keys live for one period; deleting a key deletes every digest made with it.
    op.create_table(
        "rating_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", KEY_PURPOSE, nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_key")),
        sa.UniqueConstraint("purpose", "period_start", name=op.f("uq_rating_key_purpose_period_start")),
    )
    for table in ("shift_receipt", "contributor_receipt"):
        op.create_table(
            table,
            sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
            sa.Column("key_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["key_id"], ["rating_key.id"], name=op.f(f"fk_{table}_key_id_rating_key"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("digest", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_key_id"), table, ["key_id"])
    op.create_table(
        "request_receipt",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("shift_date", sa.Date(), nullable=False),
        sa.Column("band_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["band_id"], ["shift_band.id"], name=op.f("fk_request_receipt_band_id_shift_band")
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["rating_key.id"],
            name=op.f("fk_request_receipt_key_id_rating_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_request_receipt")),
    )
    op.create_index(op.f("ix_request_receipt_key_id"), "request_receipt", ["key_id"])


def downgrade() -> None:
    for table in (
        "request_receipt",
        "contributor_receipt",
        "shift_receipt",
        "rating_key",
        "org_shift_tally",
        "team_week_reason_tally",
        "team_week_tally",
        "reason_tag",
        "shift_band",
        "team",
        "department",
    ):
        op.drop_table(table)
    KEY_PURPOSE.drop(op.get_bind(), checkfirst=True)
