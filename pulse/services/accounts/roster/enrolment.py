"""Enrolling a device: with a personal enrolment code, or after signing in at the organisation's identity
provider. Either way the device gets a new credential, shown once, and the person must be active and on at
least one active team's roster. Enrolling is what staff do themselves, so it is not an audited change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models import StaffMember, Team
from pulse.services.accounts.roster.codes import CodeStatus, claim_code, code_status, find_code, read_code
from pulse.services.accounts.roster.devices import enrol_device
from pulse.services.accounts.roster.identifiers import identifier_or_none
from pulse.services.accounts.roster.staff import active_teams_of

ASK_AGAIN = "Ask your manager for a new code."


class EnrolmentRefused(Exception):
    """The device cannot be enrolled; `kind` and `status` for the API, the message for the person."""

    def __init__(self, status: int, kind: str, message: str, field: str = "code"):
        super().__init__(message)
        self.status, self.kind, self.message, self.field = status, kind, message, field


NOT_A_CODE = (
    422,
    "invalid-enrolment-code",
    "An enrolment code has 16 letters and numbers, like 7K3M-Q9TX-2HDA-8WPE. Check it and try again.",
)
UNKNOWN_CODE = (
    404,
    "unknown-enrolment-code",
    f"This enrolment code is not right. Check each character and try again, or {ASK_AGAIN.lower()}",
)
CODE_REFUSALS = {
    CodeStatus.USED: (
        409,
        "enrolment-code-used",
        f"This enrolment code has already been used: each code enrols one phone, once. {ASK_AGAIN}",
    ),
    CodeStatus.REVOKED: (
        410,
        "enrolment-code-revoked",
        f"This enrolment code has been cancelled. {ASK_AGAIN}",
    ),
    CodeStatus.EXPIRED: (410, "enrolment-code-expired", f"This enrolment code has expired. {ASK_AGAIN}"),
}
PERSON_INACTIVE = (
    "You are not on Pulse's staff list any more, so this phone cannot be enrolled. Ask your manager."
)
NOT_ON_ROSTER = (
    "You are not on any team's staff list in Pulse yet, so this phone cannot be enrolled. Ask your manager "
    "to add you to your team."
)


@dataclass(frozen=True)
class Enrolment:
    """A device just enrolled: its credential (the only time it exists outside the device), whose it is, and
    the teams they may rate for."""

    credential: str
    staff_member_id: int
    identifier: str
    teams: tuple[Team, ...]


def _enrol(session: Session, person: StaffMember, today: dt.date, field: str) -> Enrolment:
    if not person.active:
        raise EnrolmentRefused(403, "staff-member-inactive", PERSON_INACTIVE, field)
    teams = active_teams_of(session, person.id)
    if not teams:
        raise EnrolmentRefused(403, "not-on-roster", NOT_ON_ROSTER, field)
    credential = enrol_device(session, person, today=today)
    return Enrolment(credential, person.id, person.identifier, tuple(teams))


def redeem_code(session: Session, typed: str, *, now: dt.datetime) -> Enrolment:
    """Use a personal enrolment code: it is marked used and a device credential made, in the caller's
    transaction. Raises EnrolmentRefused (then roll back: a refused code stays as it was). `now` is aware, in
    the organisation's time zone; the device's enrolment date is its date."""
    symbols = read_code(typed)
    if symbols is None:
        raise EnrolmentRefused(*NOT_A_CODE)
    person_id = claim_code(session, symbols, now)
    if person_id is None:
        code = find_code(session, symbols)
        refusal = UNKNOWN_CODE if code is None else CODE_REFUSALS.get(code_status(code, now), UNKNOWN_CODE)
        raise EnrolmentRefused(*refusal)
    person = session.get(StaffMember, person_id)
    assert person is not None  # the code's foreign key
    return _enrol(session, person, now.date(), "code")


def enrol_by_email(session: Session, email: str, *, today: dt.date) -> Enrolment:
    """Enrol a device for the person whose identifier is this (identity-provider verified) email address.
    Raises EnrolmentRefused (field "email") for someone not on the roster."""
    identifier = identifier_or_none(email)
    person = (
        session.scalar(select(StaffMember).where(StaffMember.identifier == identifier))
        if identifier is not None
        else None
    )
    if person is None:
        raise EnrolmentRefused(403, "not-on-roster", NOT_ON_ROSTER, "email")
    return _enrol(session, person, today, "email")
