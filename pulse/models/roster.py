"""Who may get rating tokens: the staff roster (people and their teams), personal enrolment codes, and the
devices people have enrolled. Nothing here is ever about a rating, and nothing here refers to one.

Dates are days, never times of day (docs/anonymity.md A8): no row may help match an enrolment or an issuance
to a rating by when it happened. An enrolment code's expiry is the one timestamp, and it is set when an
administrator issues the code, which the audit log records anyway.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pulse.db import Base
from pulse.models.structure import Team

# Emails are at most 254 characters (RFC 5321); staff numbers are far shorter.
IDENTIFIER_LENGTH = 254
# A SHA-256 digest in hex: of a code or credential with at least 80 bits of randomness, so a plain hash is
# enough (nothing to guess offline), and a lookup by it is a unique-index lookup.
HASH_LENGTH = 64
STAFF_MEMBER_ID = "staff_member.id"

roster_entry = Table(
    "roster_entry",
    Base.metadata,
    Column("staff_member_id", ForeignKey(STAFF_MEMBER_ID, ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class StaffMember(Base):
    """A member of staff, as the trust's Electronic Staff Record names them: an email or a staff number."""

    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (pulse.services.accounts.roster.identifiers): trimmed, NFC, emails lower-case.
    identifier: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH), unique=True)
    # False: deactivated (left the trust, say). Kept on the roster, but no new tokens and no enrolment.
    active: Mapped[bool] = mapped_column(default=True)
    created_on: Mapped[dt.date]

    teams: Mapped[list[Team]] = relationship(secondary=roster_entry, order_by=Team.name)


class EnrolmentCode(Base):
    """A one-time personal code that enrols one device for one person. Only its hash is kept."""

    __tablename__ = "enrolment_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey(STAFF_MEMBER_ID, ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    issued_on: Mapped[dt.date]
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(default=False)
    revoked: Mapped[bool] = mapped_column(default=False)

    staff_member: Mapped[StaffMember] = relationship()


class EnrolledDevice(Base):
    """A device's credential for fetching tokens: a random bearer secret, of which only the hash is kept."""

    __tablename__ = "enrolled_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(ForeignKey(STAFF_MEMBER_ID, ondelete="CASCADE"), index=True)
    credential_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    enrolled_on: Mapped[dt.date]
    revoked: Mapped[bool] = mapped_column(default=False)

    staff_member: Mapped[StaffMember] = relationship()
