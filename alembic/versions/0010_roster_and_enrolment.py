"""The staff roster, personal enrolment codes, enrolled devices, and the organisation's rating mode.

Revision ID: 0010_roster_and_enrolment
Revises: 0009_retired_on
Create Date: 2026-11-24

Existing organisations stay in open mode (the server default of the new column), as they rated before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_roster_and_enrolment"
down_revision: str | None = "0009_retired_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATING_MODE = sa.Enum("open", "verified", name="rating_mode")


def upgrade() -> None:
    RATING_MODE.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table("organisation_settings") as batch:
        batch.add_column(
            sa.Column(
                "rating_mode",
                sa.Enum("open", "verified", name="rating_mode", create_type=False),
                server_default="open",
                nullable=False,
            )
        )
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_member")),
        sa.UniqueConstraint("identifier", name=op.f("uq_staff_member_identifier")),
    )
    op.create_table(
        "roster_entry",
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_roster_entry_staff_member_id_staff_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_roster_entry_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_member_id", "team_id", name=op.f("pk_roster_entry")),
    )
    op.create_index(op.f("ix_roster_entry_team_id"), "roster_entry", ["team_id"], unique=False)
    op.create_table(
        "enrolment_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_enrolment_code_staff_member_id_staff_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrolment_code_code_hash")),
    )
    op.create_index(
        op.f("ix_enrolment_code_staff_member_id"), "enrolment_code", ["staff_member_id"], unique=False
    )
    op.create_table(
        "enrolled_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("credential_hash", sa.String(length=64), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_enrolled_device_staff_member_id_staff_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolled_device")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_enrolled_device_credential_hash")),
    )
    op.create_index(
        op.f("ix_enrolled_device_staff_member_id"), "enrolled_device", ["staff_member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_enrolled_device_staff_member_id"), table_name="enrolled_device")
    op.drop_table("enrolled_device")
    op.drop_index(op.f("ix_enrolment_code_staff_member_id"), table_name="enrolment_code")
    op.drop_table("enrolment_code")
    op.drop_index(op.f("ix_roster_entry_team_id"), table_name="roster_entry")
    op.drop_table("roster_entry")
    op.drop_table("staff_member")
    with op.batch_alter_table("organisation_settings") as batch:
        batch.drop_column("rating_mode")
    RATING_MODE.drop(op.get_bind(), checkfirst=True)
