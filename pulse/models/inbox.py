"""The sealed inbox: ratings waiting to be mixed into the tallies (docs/anonymity.md A10-A12).

A rating is acknowledged once its sealed item is committed here. Each item is encrypted (HPKE) to the public
key of the epoch it arrived in; the epoch's private key is kept outside the database, by the mixer only, and
destroyed once the epoch has been mixed, so that what is left of an item (in dead rows, the write-ahead log or
a backup) can no longer be read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base

EPOCH_OPEN = "open"
EPOCH_CLOSED = "closed"


class InboxEpoch(Base):
    """A period whose ratings are sealed to one public key. Open: ratings are sealed to it. Closed: no more
    can arrive; its items wait to be released. Once none is left the mixer destroys the key, then the row."""

    __tablename__ = "inbox_epoch"
    # SQLite would otherwise hand a deleted epoch's id to the next one; ids are never reused (and writers
    # check the public key as well).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    state: Mapped[str] = mapped_column(String(8), default=EPOCH_OPEN)
    # When the mixer opened it: publication waits for every epoch opened before a week closed. The mixer's
    # schedule, not a rating's time.
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InboxItem(Base):
    """One sealed rating (or reasons for one), fixed in size so that its length tells nothing. Its
    organisation part is released first (`org_applied`); the item goes when its team part is released."""

    __tablename__ = "inbox_item"

    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)  # random
    epoch_id: Mapped[int] = mapped_column(ForeignKey("inbox_epoch.id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary(512))
    org_applied: Mapped[bool] = mapped_column(default=False, server_default=false())


class ReleasedWeek(Base):
    """A closed ISO week whose every rating the mixer has released into the tallies: it may be published."""

    __tablename__ = "released_week"

    week_start: Mapped[dt.date] = mapped_column(primary_key=True)
