"""People (administrators only): accounts, managers' departments, and the audit log.

Passwords are never shown, never sent back into a form and never written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request

from pulse.admin import bp, lookups
from pulse.admin.forms import REFUSALS, FormRefused, commit_and_redirect, form_page, read_form, refusal_errors
from pulse.admin.security import actor, admin_required
from pulse.models import AuditEvent, Role, User
from pulse.runtime import db_session, runtime
from pulse.schemas.admin import ActiveForm, ScopeForm, UserForm
from pulse.schemas.structure import MAX_ID
from pulse.services import accounts, structure
from pulse.services.accounts import recent_changes, record_change
from pulse.services.errors import InvalidInput

AUDIT_PAGE = 200
# The services name some fields differently from the forms' inputs.
FIELD_IDS = {"departments": "department_ids"}
ACTIONS = {
    "department.create": "Added a department",
    "department.update": "Changed a department",
    "team.create": "Added a team",
    "team.update": "Changed a team",
    "team.move": "Moved a team",
    "team.rotate_join_code": "Replaced a team's rating link",
    "team.kiosk_enable": "Turned on ward tablet mode",
    "team.kiosk_disable": "Turned off ward tablet mode",
    "structure.import": "Imported the structure",
    "shift_band.create": "Added a shift band",
    "shift_band.retire": "Retired a shift band",
    "reason_tag.create": "Added a reason",
    "reason_tag.restore": "Brought back a reason",
    "reason_tag.retire": "Retired a reason",
    "support_link.create": "Added a support link",
    "support_link.restore": "Brought back a support link",
    "support_link.retire": "Retired a support link",
    "settings.minimum_group_size": "Changed the minimum group size (k)",
    "settings.dashboard_access": "Changed who can see the dashboard",
    "settings.dashboard_devices_revoked": "Signed every staff device out of the dashboard",
    "user.create": "Added an account",
    "user.set_departments": "Changed a manager's departments",
    "user.deactivate": "Deactivated an account",
    "user.reactivate": "Reactivated an account",
    "password.change": "Changed their password",
    "user.set_password": "Set a new password (command line)",
    "action.record": "Recorded an action (you said, we did)",
    "action.withdraw": "Withdrew an action",
    "alert_subscription.create": "Subscribed to alerts",
    "alert_subscription.delete": "Unsubscribed from alerts",
    "access.refused": "Was refused: not allowed to do this",
}


# --- Accounts -----------------------------------------------------------------------------------------------


def _users_page(errors: dict[str, str] | None = None, status: int = 200, **context: Any) -> tuple[str, int]:
    session = db_session()
    return form_page(
        "admin/users.html",
        errors,
        status,
        users=accounts.list_users(session),
        departments=structure.list_departments(session, include_inactive=True),
        sso=runtime().settings.sso_enabled,
        **context,
    )


@bp.get("/users")
@admin_required
def users() -> tuple[str, int]:
    return _users_page(created=request.args.get("created", ""))


@bp.post("/users")
@admin_required
def create_user() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(UserForm())
        password = data["password"] or None
        role = Role(data["role"])
        departments = (
            accounts.departments_by_id(session, data["department_ids"]) if role == Role.MANAGER else []
        )
        user = accounts.create_user(
            session,
            email=data["email"],
            name=data["name"],
            role=role,
            password=password,
            departments=departments,
        )
    except REFUSALS as refused:
        # Show back what was typed, except the password.
        values = {
            "new-email": request.form.get("email", "").strip(),
            "new-name": request.form.get("name", "").strip(),
            "new-role": request.form.get("role", ""),
            "new-department_ids": request.form.getlist("department_ids"),
        }
        return _users_page(refusal_errors(refused, "new-", FIELD_IDS), 422, values=values)
    record_change(
        session,
        actor(),
        "user.create",
        user.email,
        role=user.role.value,
        departments=[d.name for d in user.departments],
        sign_in="password" if password is not None else "single sign-on",
    )
    return commit_and_redirect("admin.user", user_id=user.id, done="created")


def _user_page(user: User, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    return form_page(
        "admin/user.html",
        errors,
        status,
        person=user,
        is_self=user.id == actor().id,
        departments=structure.list_departments(db_session(), include_inactive=True),
    )


def _user_refused(user_id: int, refused: FormRefused | InvalidInput) -> tuple[str, int]:
    """The account's page again (422), read afresh after the roll back, with the message beside its field."""
    return _user_page(lookups.user(user_id), refusal_errors(refused, field_ids=FIELD_IDS), 422)


@bp.get("/users/<id:user_id>")
@admin_required
def user(user_id: int) -> tuple[str, int]:
    return _user_page(lookups.user(user_id))


@bp.post("/users/<id:user_id>/departments")
@admin_required
def set_user_departments(user_id: int) -> Any:
    session = db_session(write=True)
    person = lookups.user(user_id)
    before = [d.name for d in person.departments]
    try:
        data = read_form(ScopeForm())
        departments = accounts.departments_by_id(session, data["department_ids"])
        accounts.set_scope(session, actor(), person, departments)
    except REFUSALS as refused:
        return _user_refused(user_id, refused)
    after = [d.name for d in person.departments]
    if after != before:
        record_change(session, actor(), "user.set_departments", person.email, before=before, after=after)
    return commit_and_redirect("admin.user", user_id=user_id, done="departments")


@bp.post("/users/<id:user_id>/active")
@admin_required
def set_user_active(user_id: int) -> Any:
    session = db_session(write=True)
    person = lookups.user(user_id)
    try:
        data = read_form(ActiveForm())
        if data["active"] != person.active:
            accounts.set_user_active(session, actor(), person, data["active"])
            action = "user.reactivate" if data["active"] else "user.deactivate"
            record_change(session, actor(), action, person.email)
    except REFUSALS as refused:
        return _user_refused(user_id, refused)
    return commit_and_redirect("admin.user", user_id=user_id, done="active" if person.active else "inactive")


# --- The audit log ------------------------------------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    before = _page_start(request.args.get("before"))
    events = recent_changes(db_session(), limit=AUDIT_PAGE + 1, before_id=before)
    shown = events[:AUDIT_PAGE]
    return render_template(
        "admin/audit.html",
        rows=[_audit_row(event) for event in shown],
        older=shown[-1].id if len(events) > AUDIT_PAGE else None,
        paged=before is not None,
        tz_name=runtime().settings.timezone,
    )


def _page_start(raw: str | None) -> int | None:
    """The id of the event a page of the log starts before, from the "Older changes" link: an id or a 400."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= MAX_ID):
        abort(400, "This page of the audit log does not exist. Go back to the newest changes.")
    return int(raw)


def _audit_row(event: AuditEvent) -> dict[str, str]:
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=dt.UTC)  # SQLite drops the zone
    local = at.astimezone(runtime().settings.tz)
    return {
        "when": local.strftime("%a %d %b %Y, %H:%M:%S"),
        "iso": local.isoformat(),
        "who": event.actor,
        "action": ACTIONS.get(event.action, event.action),
        "code": event.action,
        "target": event.target,
        "detail": "; ".join(f"{key}: {_detail_text(value)}" for key, value in (event.detail or {}).items()),
    }


def _detail_text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
