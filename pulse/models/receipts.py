"""Rotating keys and the keyed digests made with them (docs/anonymity.md A3, A10-A12).

The device secret is never stored. Digests are HMACs under a key that lives only for its period, mixed with a
pepper derived from the application's secret key (which is not in the database); purging a key deletes its
digests with it, after which nothing at rest can link a device to anything. No receipt names a team or a
colour, and what a receipt must remember (a request's shift, a shift's count) is sealed or masked.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base


class KeyPurpose(enum.StrEnum):
    SHIFT = "shift"  # K_day: one rating per device per shift, keyed by shift date
    WEEK = "week"  # K_week: distinct contributors per team and ISO week, keyed by week start
    REQUEST = "request"  # idempotency of retries, keyed by the calendar day the request first arrived


class RatingKey(Base):
    __tablename__ = "rating_key"
    __table_args__ = (UniqueConstraint("purpose", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[KeyPurpose] = mapped_column(
        Enum(KeyPurpose, name="key_purpose", values_callable=lambda e: [m.value for m in e])
    )
    period_start: Mapped[dt.date]
    secret: Mapped[bytes] = mapped_column(LargeBinary(32))


class ShiftReceipt(Base):
    """HMAC(K_day, device_secret | shift_date | band): refuses a second rating in the same shift."""

    __tablename__ = "shift_receipt"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)


class ContributorReceipt(Base):
    """A contributor's digest, inserted by the mixer, never by a rating: HMAC(K_week, device_secret | team |
    week) counts each device once per team and week, HMAC(K_day, device_secret | "day" | date) once per
    organisation day (verified mode: the same from the person's anonymous pseudonyms)."""

    __tablename__ = "contributor_receipt"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)


class RequestReceipt(Base):
    """HMAC(K_request, requester | idempotency key): a retry gets the first answer and counts once.

    `sealed` holds the team, shift and whether reasons were added, encrypted under a key derived from the
    requester's secret and the idempotency key (rating.sealing.seal_receipt): the server can read it only
    when the same device sends the same request again. It never holds the colour.
    """

    __tablename__ = "request_receipt"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary(128))


class ShiftCounter(Base):
    """A team's ratings in one shift, for the cap at its headcount (open mode and kiosk), and the shared
    tablet's cooldown: HMAC(K_day, "counter" | team | date | band). The values are masked (each stored plus
    a per-row secret offset derived from the same key), so a row tells nobody without the pepper which team
    it is or how many rated. It is deleted once its shift has closed for rating (`closes_at`)."""

    __tablename__ = "shift_counter"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    masked_count: Mapped[int] = mapped_column(BigInteger)
    masked_next_tap: Mapped[int] = mapped_column(BigInteger)  # Unix seconds, masked; the kiosk's cooldown
