"""One member of staff in the admin area: their teams, enrolled phones and enrolment codes; issuing and
revoking codes, revoking phones, and (administrators) deactivating them. A manager acts on people on a team
in a department they manage. Codes are shown once, on the printable sheet; afterwards only their status."""

from __future__ import annotations

from typing import Any

from flask import url_for

from pulse.admin import bp, lookups
from pulse.admin.forms import FormRefused, commit_and_redirect, form_page, read_form
from pulse.admin.roster import code_sheet, code_validity, local_now
from pulse.admin.security import actor, admin_required, signed_in_required
from pulse.models import StaffMember
from pulse.runtime import db_session
from pulse.schemas.admin import ActiveForm
from pulse.services import accounts
from pulse.services.accounts import roster
from pulse.services.errors import InvalidInput


def _page(person: StaffMember, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    session = db_session()
    user = actor()
    return form_page(
        "admin/staff_member.html",
        errors,
        status,
        person=person,
        teams=[(team, accounts.may_act_in(user, team.department_id)) for team in person.teams],
        devices=roster.list_devices(session, person),
        codes=roster.list_codes(session, person, local_now()),
    )


def _back(person: StaffMember, done: str) -> Any:
    """Commit the change, and back to the person's page with its notice."""
    return commit_and_redirect("admin.staff_member", person_id=person.id, done=done)


@bp.get("/staff/<id:person_id>")
@signed_in_required
def staff_member(person_id: int) -> tuple[str, int]:
    return _page(lookups.managed_person(person_id))


@bp.post("/staff/<id:person_id>/enrolment-codes")
@signed_in_required
def issue_person_code(person_id: int) -> Any:
    person = lookups.managed_person(person_id, write=True)
    try:
        issued = roster.issue_code(db_session(), actor(), person, now=local_now(), valid_for=code_validity())
    except InvalidInput as refused:
        db_session().rollback()
        return _page(lookups.managed_person(person_id), {"issue-code": str(refused)}, 422)
    db_session().commit()
    back = url_for("admin.staff_member", person_id=person.id)
    return code_sheet([issued], person.identifier, back, person.identifier)


@bp.post("/staff/<id:person_id>/enrolment-codes/<id:code_id>/revoke")
@signed_in_required
def revoke_code(person_id: int, code_id: int) -> Any:
    person = lookups.managed_person(person_id, write=True)
    code = lookups.found(roster.get_code(db_session(), person, code_id), "enrolment code")
    roster.revoke_code(db_session(), actor(), code)
    return _back(person, "code-revoked")


@bp.post("/staff/<id:person_id>/devices/<id:device_id>/revoke")
@signed_in_required
def revoke_device(person_id: int, device_id: int) -> Any:
    person = lookups.managed_person(person_id, write=True)
    device = lookups.found(roster.get_device(db_session(), person, device_id), "phone")
    roster.revoke_device(db_session(), actor(), device)
    return _back(person, "device-revoked")


@bp.post("/staff/<id:person_id>/devices/revoke")
@signed_in_required
def revoke_all_devices(person_id: int) -> Any:
    person = lookups.managed_person(person_id, write=True)
    roster.revoke_devices(db_session(), actor(), person)
    return _back(person, "devices-revoked")


@bp.post("/staff/<id:person_id>/active")
@admin_required
def set_staff_active(person_id: int) -> Any:
    person = lookups.managed_person(person_id, write=True)
    try:
        data = read_form(ActiveForm())
    except FormRefused as refused:
        return _page(person, refused.errors, 422)
    roster.set_person_active(db_session(), actor(), person, data["active"])
    return _back(person, "activated" if data["active"] else "deactivated")
