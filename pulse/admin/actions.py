""" "You said, we did": managers record what their department changed; everyone sees it on the charts."""

from __future__ import annotations

from typing import Any

from flask import request

from pulse.admin import bp, lookups
from pulse.admin.forms import REFUSALS, commit_and_redirect, form_page, read_form, refusal_errors
from pulse.admin.security import actor, require_department, signed_in_required
from pulse.models import Department
from pulse.runtime import db_session, runtime
from pulse.schemas.admin import ActionForm
from pulse.services import structure
from pulse.services.accounts import record_change
from pulse.services.followup import actions


def _page(
    department: Department, errors: dict[str, str] | None = None, status: int = 200, **form: Any
) -> tuple[str, int]:
    session = db_session()
    return form_page(
        "admin/actions.html",
        errors,
        status,
        department=department,
        actions=actions.list_actions(session, department.id),
        reasons=structure.list_reason_tags(session),
        form=form,
        today=runtime().now().astimezone(runtime().settings.tz).date(),
    )


@bp.get("/departments/<id:department_id>/actions")
@signed_in_required
def department_actions(department_id: int) -> Any:
    return _page(lookups.managed_department(department_id))


@bp.post("/departments/<id:department_id>/actions")
@signed_in_required
def record_action(department_id: int) -> Any:
    department = lookups.managed_department(department_id)
    session = db_session(write=True)
    try:
        data = read_form(ActionForm())
        action = actions.record_action(
            session,
            department=department,
            taken_on=data["taken_on"],
            summary=data["summary"],
            reason_ids=data["reason_ids"],
            rebase=data["rebase"],
            recorded_by=actor(),
            today=runtime().now().astimezone(runtime().settings.tz).date(),
        )
    except REFUSALS as refused:
        return _page(department, refusal_errors(refused), 422, **request.form)
    record_change(
        session,
        actor(),
        "action.record",
        f"{department.name}: {action.summary}"[:200],
        taken_on=action.taken_on.isoformat(),
        rebase=action.rebase,
        reasons=[tag.label for tag in action.reasons],
    )
    return commit_and_redirect("admin.department_actions", department_id=department_id, done="recorded")


@bp.post("/actions/<id:action_id>/withdraw")
@signed_in_required
def withdraw_action(action_id: int) -> Any:
    session = db_session(write=True)
    action = lookups.found(actions.get_action(session, action_id), "action")
    require_department(action.department_id)
    actions.withdraw_action(session, action)
    record_change(
        session, actor(), "action.withdraw", action.summary[:200], taken_on=action.taken_on.isoformat()
    )
    return commit_and_redirect(
        "admin.department_actions", department_id=action.department_id, done="withdrawn"
    )
