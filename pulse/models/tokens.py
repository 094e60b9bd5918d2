"""Anonymous tokens' storage: a random seed per ISO week, and what was issued to whom (never the token).

A week's seed, used peppered with the application's secret key (pulse.services.tokens.keys), derives every
key of that week's slots and pseudonyms; it is destroyed, with the week's issuance records, once the week's
last slot has closed for rating. An issuance record says, to whoever holds the pepper, that a person was
issued the token of one slot, team-week, day or organisation week, and holds a digest of the blinded element
it was evaluated on, so that a retry of the same request is answered again and a second token is never
issued. It holds no time at all (no column, no surrogate id whose order would tell when), and never the
token: the phone unblinds it, so nothing here can be matched to a rating (docs/anonymity.md A8,
docs/verified-rating.md).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from pulse.db import Base


class TokenSeed(Base):
    """One ISO week's random seed (32 bytes), peppered before use, so the database alone derives no key.

    `key_check` is a digest of the peppered seed: it tells the server that PULSE_SECRET_KEY has changed since
    the week's tokens were issued (every key of the week then changed), without revealing the pepper.
    `reissued_at` is when it last noticed such a change: shifts that had started by then are not issued again
    (tokens.rekey). It concerns the whole organisation, never a person.
    """

    __tablename__ = "token_seed"

    week_start: Mapped[dt.date] = mapped_column(primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_check: Mapped[bytes] = mapped_column(LargeBinary(32))
    reissued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TokenIssuance(Base):
    """A token was issued: to whom and for what only as `holder`, HMAC(pepper, person | info), the pepper
    coming from PULSE_SECRET_KEY; and the SHA-256 of the blinded element it was evaluated on.

    The primary key is what makes a second token for the same person and slot impossible, races included: the
    row is claimed before anything is evaluated. Without the pepper (the database's credentials, a backup) a
    row names nobody and no slot, so not even its xmin or place can tie a person's issuance to the moment of a
    spending. The week is that of the seed the token was evaluated under; deleting the seed deletes its rows.
    """

    __tablename__ = "token_issuance"

    holder: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    week_start: Mapped[dt.date] = mapped_column(
        ForeignKey("token_seed.week_start", ondelete="CASCADE"), index=True
    )
    blinded_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
