"""Personal enrolment codes: issued by an administrator or manager from the roster, for staff without an
account at the identity provider. One code enrols one device, once, before it expires, unless revoked.

A code is 16 Crockford base32 symbols (80 random bits), printed in groups of four: XXXX-XXXX-XXXX-XXXX.
Crockford's alphabet leaves out I, L, O and U, and reading a code back forgives case, spaces, hyphens, and I
or L typed for 1 and O for 0. Written here rather than taken from a package: the one on PyPI
(base32-crockford) has not been released since 2015, and the code needs only random symbols and the
forgiving read, not base32 arithmetic. Pulse keeps only the code's SHA-256.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import EnrolledDevice, EnrolmentCode, StaffMember, Team, User
from pulse.services.accounts.change_log import record_change
from pulse.services.accounts.roster.staff import active_people_on_team, active_teams_of, team_label
from pulse.services.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 16  # 16 x 5 bits = 80 bits
GROUP = 4
# What people type for a symbol that is not in the alphabet.
READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def new_code() -> str:
    """A fresh code, grouped for reading aloud and typing."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS))
    return "-".join(symbols[i : i + GROUP] for i in range(0, SYMBOLS, GROUP))


def read_code(typed: str) -> str | None:
    """The code's 16 symbols as typed (any case, with or without hyphens and spaces), or None if it cannot be
    a code at all."""
    symbols = typed.strip().upper().translate(READ_AS)
    if len(symbols) != SYMBOLS or any(symbol not in ALPHABET for symbol in symbols):
        return None
    return symbols


def code_hash(symbols: str) -> str:
    return hashlib.sha256(symbols.encode("ascii")).hexdigest()


class CodeStatus(enum.StrEnum):
    LIVE = "live"  # can still be used
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC datetime (SQLite gives it back without its zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def code_status(code: EnrolmentCode, now: dt.datetime) -> CodeStatus:
    if code.used:
        return CodeStatus.USED
    if code.revoked:
        return CodeStatus.REVOKED
    if _utc(code.expires_at) <= now:
        return CodeStatus.EXPIRED
    return CodeStatus.LIVE


@dataclass(frozen=True)
class IssuedCode:
    """A code just issued: the only time the code itself exists anywhere but on the sheet it is printed on."""

    staff_member_id: int
    identifier: str
    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class CodeSummary:
    """A code as it is listed afterwards: its status, never the code."""

    id: int
    issued_on: dt.date
    expires_at: dt.datetime
    status: CodeStatus


def _check_may_enrol(session: Session, person: StaffMember) -> None:
    if not person.active:
        raise InvalidInput(f"{person.identifier} is deactivated: reactivate them first.", "identifier")
    if not active_teams_of(session, person.id):
        raise InvalidInput(
            f"{person.identifier} is on no active team's roster: add them to their team first.", "identifier"
        )


def _issue(session: Session, person: StaffMember, *, now: dt.datetime, valid_for: dt.timedelta) -> IssuedCode:
    # A new code replaces any the person still holds: only the newest sheet works.
    session.execute(
        update(EnrolmentCode)
        .where(
            EnrolmentCode.staff_member_id == person.id,
            EnrolmentCode.used.is_(False),
            EnrolmentCode.revoked.is_(False),
        )
        .values(revoked=True)
    )
    code = new_code()
    expires_at = now.astimezone(dt.UTC) + valid_for
    session.add(
        EnrolmentCode(
            staff_member_id=person.id,
            code_hash=code_hash(code.replace("-", "")),
            issued_on=now.date(),
            expires_at=expires_at,
            used=False,
            revoked=False,
        )
    )
    session.flush()
    return IssuedCode(person.id, person.identifier, code, expires_at)


def issue_code(
    session: Session, actor: User | None, person: StaffMember, *, now: dt.datetime, valid_for: dt.timedelta
) -> IssuedCode:
    """Issue a personal enrolment code (any earlier unused one stops working). InvalidInput if the person is
    deactivated or on no active team's roster. `now` is local time: the code's issue date is its date."""
    _check_may_enrol(session, person)
    issued = _issue(session, person, now=now, valid_for=valid_for)
    record_change(session, actor, "enrolment_code.issue", person.identifier, expires=issued.expires_at)
    return issued


def issue_team_codes(
    session: Session,
    actor: User | None,
    team: Team,
    *,
    now: dt.datetime,
    valid_for: dt.timedelta,
    include_enrolled: bool = False,
) -> list[IssuedCode]:
    """A code for each active person on the team's roster, by identifier; unless `include_enrolled`, only for
    those with no enrolled device yet. One audit entry names them all."""
    people = active_people_on_team(session, team)
    if not include_enrolled:
        enrolled = set(
            session.scalars(
                select(EnrolledDevice.staff_member_id).where(
                    EnrolledDevice.revoked.is_(False),
                    EnrolledDevice.staff_member_id.in_([person.id for person in people]),
                )
            )
        )
        people = [person for person in people if person.id not in enrolled]
    issued = [_issue(session, person, now=now, valid_for=valid_for) for person in people]
    if issued:
        record_change(
            session,
            actor,
            "enrolment_code.issue_team",
            team_label(team),
            people=[code.identifier for code in issued],
            expires=issued[0].expires_at,
        )
    return issued


def list_codes(session: Session, person: StaffMember, now: dt.datetime) -> list[CodeSummary]:
    """A person's codes, newest first, with their status only."""
    codes = session.scalars(
        select(EnrolmentCode)
        .where(EnrolmentCode.staff_member_id == person.id)
        .order_by(EnrolmentCode.id.desc())
    )
    return [CodeSummary(c.id, c.issued_on, _utc(c.expires_at), code_status(c, now)) for c in codes]


def latest_code_statuses(
    session: Session, people: list[StaffMember], now: dt.datetime
) -> dict[int, CodeStatus]:
    """{person id: status of their newest code}, for people who have one."""
    newest: dict[int, EnrolmentCode] = {}
    for code in session.scalars(
        select(EnrolmentCode)
        .where(EnrolmentCode.staff_member_id.in_([person.id for person in people]))
        .order_by(EnrolmentCode.id)
    ):
        newest[code.staff_member_id] = code
    return {person_id: code_status(code, now) for person_id, code in newest.items()}


def get_code(session: Session, person: StaffMember, code_id: int) -> EnrolmentCode | None:
    code = session.get(EnrolmentCode, code_id)
    return code if code is not None and code.staff_member_id == person.id else None


def revoke_code(session: Session, actor: User | None, code: EnrolmentCode) -> bool:
    """Stop an unused code working (a lost sheet). False if it was used or revoked already."""
    if code.used or code.revoked:
        return False
    code.revoked = True
    session.flush()
    record_change(session, actor, "enrolment_code.revoke", code.staff_member.identifier)
    return True


def claim_code(session: Session, symbols: str, now: dt.datetime) -> int | None:
    """Mark the live code with these symbols used, in one conditional statement, and return its person's id;
    None if no live code has them. Of several redemptions at once, exactly one claims the code: on PostgreSQL
    the others wait for its row lock and then find it used; on SQLite writers take turns."""
    return session.scalar(
        update(EnrolmentCode)
        .where(
            EnrolmentCode.code_hash == code_hash(symbols),
            EnrolmentCode.used.is_(False),
            EnrolmentCode.revoked.is_(False),
            EnrolmentCode.expires_at > now.astimezone(dt.UTC),
        )
        .values(used=True)
        .returning(EnrolmentCode.staff_member_id)
    )


def find_code(session: Session, symbols: str) -> EnrolmentCode | None:
    return session.scalar(select(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash(symbols)))
