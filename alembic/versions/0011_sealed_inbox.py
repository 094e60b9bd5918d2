"""Storage that cannot be replayed: a sealed inbox that only the mixer adds to the tallies, sealed request
receipts, masked shift counters (the kiosk's receipts become them), organisation-day and -week contributors,
and one row per organisation shift again (one writer, the mixer, needs no slots).

Request receipts made before this revision keep answering retries: their shift and band move into `sealed`
in a plain legacy form (they vanish with their keys within two days). Kiosk receipts are dropped: a tablet's
count for the current shift starts again. Each organisation day gets, as its distinct contributors, its
largest shift's ratings, and each organisation week its largest team's contributors: the most that is certain.

Revision ID: 0011_sealed_inbox
Revises: 0010_roster_and_enrolment
Create Date: 2026-12-06
"""

import datetime as dt
import struct
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_sealed_inbox"
down_revision: str | None = "0010_roster_and_enrolment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SAME_SHIFT = "s.shift_date = org_shift_tally.shift_date AND s.band_id = org_shift_tally.band_id"


def upgrade() -> None:
    op.create_table(
        "inbox_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_epoch")),
        sa.UniqueConstraint("public_key", name=op.f("uq_inbox_epoch_public_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("epoch_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(length=512), nullable=False),
        sa.Column("org_applied", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["epoch_id"], ["inbox_epoch.id"], name=op.f("fk_inbox_item_epoch_id_inbox_epoch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_item")),
    )
    op.create_index(op.f("ix_inbox_item_epoch_id"), "inbox_item", ["epoch_id"])
    op.create_table(
        "released_week",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_released_week")),
    )
    op.create_table(
        "shift_counter",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("masked_count", sa.BigInteger(), nullable=False),
        sa.Column("masked_next_tap", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["rating_key.id"], name=op.f("fk_shift_counter_key_id_rating_key"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_shift_counter")),
    )
    op.create_index(op.f("ix_shift_counter_key_id"), "shift_counter", ["key_id"])
    op.create_index(op.f("ix_shift_counter_closes_at"), "shift_counter", ["closes_at"])
    op.drop_index(op.f("ix_kiosk_receipt_key_id"), table_name="kiosk_receipt")
    op.drop_table("kiosk_receipt")

    with op.batch_alter_table("request_receipt") as batch:
        batch.add_column(sa.Column("sealed", sa.LargeBinary(length=128), nullable=True))
    connection = op.get_bind()
    receipts = sa.table(
        "request_receipt",
        sa.column("digest", sa.LargeBinary),
        sa.column("shift_date", sa.Date),
        sa.column("band_id", sa.Integer),
        sa.column("reasons_added", sa.Boolean),
        sa.column("sealed", sa.LargeBinary),
    )
    for digest, shift_date, band_id, reasons_added in connection.execute(
        sa.select(receipts.c.digest, receipts.c.shift_date, receipts.c.band_id, receipts.c.reasons_added)
    ).all():
        legacy = b"L" + struct.pack(">IIB", shift_date.toordinal(), band_id, bool(reasons_added))
        connection.execute(receipts.update().where(receipts.c.digest == digest).values(sealed=legacy))
    with op.batch_alter_table("request_receipt") as batch:
        batch.alter_column("sealed", existing_type=sa.LargeBinary(length=128), nullable=False)
        batch.drop_constraint("fk_request_receipt_band_id_shift_band", type_="foreignkey")
        batch.drop_column("reasons_added")
        batch.drop_column("band_id")
        batch.drop_column("shift_date")

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
    with op.batch_alter_table("org_shift_tally") as batch:
        batch.drop_constraint("pk_org_shift_tally", type_="primary")
        batch.create_primary_key("pk_org_shift_tally", ["shift_date", "band_id"])
        batch.drop_column("slot")

    op.create_table(
        "org_day_tally",
        sa.Column("shift_date", sa.Date(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("shift_date", name=op.f("pk_org_day_tally")),
    )
    op.execute(
        "INSERT INTO org_day_tally (shift_date, contributors) "
        "SELECT shift_date, max(red + amber + green) FROM org_shift_tally GROUP BY shift_date"
    )
    op.create_table(
        "org_week_tally",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_org_week_tally")),
    )
    # Each team's contributors are distinct people, so the largest team of a week is the most that is certain.
    op.execute(
        "INSERT INTO org_week_tally (week_start, contributors) "
        "SELECT week_start, max(contributors) FROM team_week_tally GROUP BY week_start"
    )


def downgrade() -> None:
    connection = op.get_bind()
    waiting = connection.execute(sa.text("SELECT count(*) FROM inbox_item")).scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} ratings are still in the sealed inbox: run `pulse mix --now` before downgrading, or "
            "they would be lost."
        )
    op.drop_table("org_week_tally")
    op.drop_table("org_day_tally")
    with op.batch_alter_table("org_shift_tally") as batch:
        batch.add_column(sa.Column("slot", sa.SmallInteger(), server_default="0", nullable=False))
        batch.drop_constraint("pk_org_shift_tally", type_="primary")
        batch.create_primary_key("pk_org_shift_tally", ["shift_date", "band_id", "slot"])

    receipts = sa.table(
        "request_receipt",
        sa.column("digest", sa.LargeBinary),
        sa.column("shift_date", sa.Date),
        sa.column("band_id", sa.Integer),
        sa.column("reasons_added", sa.Boolean),
        sa.column("sealed", sa.LargeBinary),
    )
    # Sealed receipts cannot be read back without their devices' secrets: only legacy ones are kept.
    connection.execute(receipts.delete().where(sa.func.substr(receipts.c.sealed, 1, 1) != b"L"))
    with op.batch_alter_table("request_receipt") as batch:
        batch.add_column(sa.Column("shift_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("band_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reasons_added", sa.Boolean(), server_default=sa.false(), nullable=False))
    for digest, sealed in connection.execute(sa.select(receipts.c.digest, receipts.c.sealed)).all():
        ordinal, band_id, reasons_added = struct.unpack(">IIB", bytes(sealed)[1:])
        connection.execute(
            receipts.update()
            .where(receipts.c.digest == digest)
            .values(
                shift_date=dt.date.fromordinal(ordinal), band_id=band_id, reasons_added=bool(reasons_added)
            )
        )
    with op.batch_alter_table("request_receipt") as batch:
        batch.alter_column("shift_date", existing_type=sa.Date(), nullable=False)
        batch.alter_column("band_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_request_receipt_band_id_shift_band", "shift_band", ["band_id"], ["id"])
        batch.drop_column("sealed")

    op.create_table(
        "kiosk_receipt",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("taps", sa.Integer(), nullable=False),
        sa.Column("next_tap_at", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["rating_key.id"], name=op.f("fk_kiosk_receipt_key_id_rating_key"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_kiosk_receipt")),
    )
    op.create_index(op.f("ix_kiosk_receipt_key_id"), "kiosk_receipt", ["key_id"], unique=False)
    op.drop_index(op.f("ix_shift_counter_closes_at"), table_name="shift_counter")
    op.drop_index(op.f("ix_shift_counter_key_id"), table_name="shift_counter")
    op.drop_table("shift_counter")
    op.drop_table("released_week")
    op.drop_index(op.f("ix_inbox_item_epoch_id"), table_name="inbox_item")
    op.drop_table("inbox_item")
    op.drop_table("inbox_epoch")
