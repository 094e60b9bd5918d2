""" "You said, we did": managers record what their department changed; everyone sees it on the charts."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for

from pulse.admin import bp
from pulse.admin.forms import FormRefused, errors_of, read_form
from pulse.admin.security import actor, require_department, signed_in_required
from pulse.models import Department
from pulse.runtime import db_session, runtime
from pulse.schemas.admin import ActionForm
from pulse.services import actions, structure
from pulse.services.audit_log import record_change
from pulse.services.errors import InvalidInput


def _department(department_id: int) -> Department:
    department = structure.get_department(db_session(), department_id)
    if department is None:
        abort(404, "There is no such department.")
    require_department(department.id)
    return department


def _page(
    department: Department, errors: dict[str, str] | None = None, status: int = 200, **form: Any
) -> Any:
    session = db_session()
    page = render_template(
        "admin/actions.html",
        department=department,
        actions=actions.list_actions(session, department.id),
        reasons=structure.list_reason_tags(session),
        errors=errors or {},
        form=form,
        today=runtime().now().astimezone(runtime().settings.tz).date(),
        notice=request.args.get("done", ""),
    )
    return page, status


@bp.get("/departments/<int:department_id>/actions")
@signed_in_required
def department_actions(department_id: int) -> Any:
    return _page(_department(department_id))


@bp.post("/departments/<int:department_id>/actions")
@signed_in_required
def record_action(department_id: int) -> Any:
    department = _department(department_id)
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
    except (FormRefused, InvalidInput) as refused:
        session.rollback()
        errors = errors_of(refused)
        return _page(department, errors, 422, **request.form)
    record_change(
        session,
        actor(),
        "action.record",
        f"{department.name}: {action.summary}"[:200],
        taken_on=action.taken_on.isoformat(),
        rebase=action.rebase,
        reasons=[tag.label for tag in action.reasons],
    )
    session.commit()
    return redirect(
        url_for("admin.department_actions", department_id=department_id, done="recorded"), code=303
    )


@bp.post("/actions/<int:action_id>/withdraw")
@signed_in_required
def withdraw_action(action_id: int) -> Any:
    session = db_session(write=True)
    action = actions.get_action(session, action_id)
    if action is None:
        abort(404, "There is no such action.")
    require_department(action.department_id)
    actions.withdraw_action(session, action)
    record_change(
        session, actor(), "action.withdraw", action.summary[:200], taken_on=action.taken_on.isoformat()
    )
    session.commit()
    return redirect(
        url_for("admin.department_actions", department_id=action.department_id, done="withdrawn"), code=303
    )
