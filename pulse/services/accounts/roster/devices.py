"""Enrolled devices: the bearer credential a device fetches tokens with, checking it, and revoking it.

The credential is 256 random bits, handed to the device once; Pulse keeps only its SHA-256. Authenticating
a device says who it belongs to and which teams that person may fetch tokens for, or why it may not.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pulse.models import EnrolledDevice, StaffMember, User
from pulse.services.accounts.change_log import record_change
from pulse.services.accounts.roster.staff import active_teams_of

CREDENTIAL_BYTES = 32  # 256 bits, 43 URL-safe characters
# Longer input is refused before hashing: a credential is 43 characters.
MAX_CREDENTIAL_LENGTH = 128


def credential_hash(credential: str) -> str:
    return hashlib.sha256(credential.encode("utf-8")).hexdigest()


def enrol_device(session: Session, person: StaffMember, *, today: dt.date) -> str:
    """Enrol a new device for `person` and return its credential: shown to the device once, never kept."""
    credential = secrets.token_urlsafe(CREDENTIAL_BYTES)
    session.add(
        EnrolledDevice(
            staff_member_id=person.id,
            credential_hash=credential_hash(credential),
            enrolled_on=today,
            revoked=False,
        )
    )
    session.flush()
    return credential


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown-device"  # no device has this credential
    REVOKED = "device-revoked"  # the device was revoked (lost phone, say)
    PERSON_INACTIVE = "staff-member-inactive"  # its person is deactivated
    NO_ROSTER = "not-on-roster"  # its person is on no active team's roster


REFUSALS = {
    Refusal.UNKNOWN: "This phone is not enrolled with Pulse. Enrol it again with a new enrolment code or by "
    "signing in.",
    Refusal.REVOKED: "This phone's enrolment has been cancelled. Enrol it again, or ask your manager.",
    Refusal.PERSON_INACTIVE: "You are not on Pulse's staff list any more. Ask your manager if this is wrong.",
    Refusal.NO_ROSTER: "You are not on any team's staff list in Pulse. Ask your manager to add you to your "
    "team.",
}


class DeviceRefused(Exception):
    """The device may not fetch tokens; `reason` says why, the message says it in plain English."""

    def __init__(self, reason: Refusal):
        super().__init__(REFUSALS[reason])
        self.reason = reason


@dataclass(frozen=True)
class DeviceAccess:
    """An enrolled device's person, and the teams they may fetch tokens for (active teams, by id)."""

    staff_member_id: int
    team_ids: tuple[int, ...]


def authenticate_device(session: Session, credential: str) -> DeviceAccess:
    """Who the device with this credential belongs to and which teams they may fetch tokens for.

    Raises DeviceRefused: an unknown or revoked credential, a deactivated person, or a person on no active
    team's roster. Reads only.
    """
    if not credential or len(credential) > MAX_CREDENTIAL_LENGTH:
        raise DeviceRefused(Refusal.UNKNOWN)
    row = session.execute(
        select(EnrolledDevice.revoked, StaffMember.id, StaffMember.active)
        .join(StaffMember, StaffMember.id == EnrolledDevice.staff_member_id)
        .where(EnrolledDevice.credential_hash == credential_hash(credential))
    ).first()
    if row is None:
        raise DeviceRefused(Refusal.UNKNOWN)
    revoked, person_id, active = row
    if revoked:
        raise DeviceRefused(Refusal.REVOKED)
    if not active:
        raise DeviceRefused(Refusal.PERSON_INACTIVE)
    teams = active_teams_of(session, person_id)
    if not teams:
        raise DeviceRefused(Refusal.NO_ROSTER)
    return DeviceAccess(person_id, tuple(team.id for team in teams))


def list_devices(session: Session, person: StaffMember) -> list[EnrolledDevice]:
    """A person's devices, newest first: the day each was enrolled and whether it is revoked."""
    stmt = (
        select(EnrolledDevice)
        .where(EnrolledDevice.staff_member_id == person.id)
        .order_by(EnrolledDevice.enrolled_on.desc(), EnrolledDevice.id.desc())
    )
    return list(session.scalars(stmt))


def get_device(session: Session, person: StaffMember, device_id: int) -> EnrolledDevice | None:
    device = session.get(EnrolledDevice, device_id)
    return device if device is not None and device.staff_member_id == person.id else None


def revoke_device(session: Session, actor: User | None, device: EnrolledDevice) -> bool:
    """Stop one device fetching tokens (a lost phone). False if it already was revoked."""
    if device.revoked:
        return False
    device.revoked = True
    session.flush()
    record_change(
        session, actor, "device.revoke", device.staff_member.identifier, enrolled_on=device.enrolled_on
    )
    return True


def revoke_devices(session: Session, actor: User | None, person: StaffMember) -> int:
    """Stop every device of a person fetching tokens; how many were revoked."""
    count = len(
        session.execute(
            update(EnrolledDevice)
            .where(EnrolledDevice.staff_member_id == person.id, EnrolledDevice.revoked.is_(False))
            .values(revoked=True)
            .returning(EnrolledDevice.id)
        ).all()
    )
    if count:
        record_change(session, actor, "device.revoke_all", person.identifier, devices=count)
    return count
