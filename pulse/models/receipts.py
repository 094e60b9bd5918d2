"""Rotating keys and the keyed digests made with them (PRIVACY.md section 1).

The device secret is never stored. Digests are HMACs under a key that lives only for its period; purging a
key deletes its digests with it, after which nothing at rest can link a device to anything.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, LargeBinary, UniqueConstraint, false
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
    """HMAC(K_week, device_secret | team | week): counts each device once per team and week."""

    __tablename__ = "contributor_receipt"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)


class RequestReceipt(Base):
    """HMAC(K_request, device_secret | idempotency key): a retry gets the first answer and counts once."""

    __tablename__ = "request_receipt"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)
    shift_date: Mapped[dt.date]
    band_id: Mapped[int] = mapped_column(ForeignKey("shift_band.id"))
    # Reasons may follow the rating in a second request, once: this says they have.
    reasons_added: Mapped[bool] = mapped_column(default=False, server_default=false())


class KioskReceipt(Base):
    """HMAC(K_day, kiosk | team | shift_date | band): a shared tablet's taps this shift, and when it may
    next take one. Made and purged with the shift key, like ShiftReceipt."""

    __tablename__ = "kiosk_receipt"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("rating_key.id", ondelete="CASCADE"), index=True)
    taps: Mapped[int] = mapped_column(default=0)
    next_tap_at: Mapped[int] = mapped_column(default=0)  # Unix seconds
