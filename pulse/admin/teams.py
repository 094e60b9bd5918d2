"""Departments and teams: create, rename, move, deactivate; headcount; join codes; ward posters; kiosk
tablets; the structure CSV. Managers act in their own departments, administrators everywhere."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for

from pulse.admin import bp
from pulse.admin.forms import FormRefused, errors_of, read_form
from pulse.admin.security import actor, admin_required, require_department, require_team, signed_in_required
from pulse.models import Department, Team
from pulse.runtime import db_session, public_base_url, runtime
from pulse.schemas.admin import DepartmentForm, KioskForm, MoveTeamForm, TeamForm
from pulse.services import accounts, kiosk, structure, structure_edit
from pulse.services.audit_log import record_change
from pulse.services.errors import InvalidInput
from pulse.services.structure_import import (
    StructureImportError,
    export_structure,
    import_structure,
    read_structure_csv,
)

MAX_CSV_BYTES = 2 * 1024 * 1024


def _department(department_id: int, *, write: bool = False) -> Department:
    department = structure.get_department(db_session(write=write), department_id)
    if department is None:
        abort(404, "There is no such department.")
    return department


def _team(team_id: int, *, write: bool = False) -> Team:
    team = structure.get_team(db_session(write=write), team_id)
    if team is None:
        abort(404, "There is no such team.")
    return team


def _home(errors: dict[str, str] | None = None, status: int = 200, **context: Any) -> tuple[str, int]:
    session = db_session()
    user = actor()
    page = render_template(
        "admin/home.html",
        departments=accounts.departments_in_scope(session, user),
        errors=errors or {},
        **context,
    )
    return page, status


@bp.get("/")
@signed_in_required
def home() -> tuple[str, int]:
    return _home()


@bp.post("/departments")
@admin_required
def create_department() -> Any:
    try:
        data = read_form(DepartmentForm())
        session = db_session(write=True)
        department = structure_edit.create_department(session, data["name"])
    except (FormRefused, InvalidInput) as refused:
        db_session().rollback()
        return _home(errors_of(refused), 422)
    record_change(session, actor(), "department.create", department.name)
    session.commit()
    return redirect(url_for("admin.home", _anchor=f"department-{department.id}"), code=303)


@bp.post("/departments/<int:department_id>")
@admin_required
def update_department(department_id: int) -> Any:
    department = _department(department_id, write=True)
    before = (department.name, department.active)
    try:
        data = read_form(DepartmentForm())
        structure_edit.update_department(db_session(), department, name=data["name"], active=data["active"])
    except (FormRefused, InvalidInput) as refused:
        db_session().rollback()
        return _home(errors_of(refused, prefix=f"department-{department_id}-"), 422)
    record_change(
        db_session(),
        actor(),
        "department.update",
        department.name,
        before=list(before),
        active=department.active,
    )
    db_session().commit()
    return redirect(url_for("admin.home", _anchor=f"department-{department.id}"), code=303)


@bp.post("/departments/<int:department_id>/teams")
@signed_in_required
def create_team(department_id: int) -> Any:
    department = _department(department_id, write=True)
    require_department(department.id)
    try:
        data = read_form(TeamForm())
        team = structure_edit.create_team(db_session(), department, data["name"], data["headcount"])
    except (FormRefused, InvalidInput) as refused:
        db_session().rollback()
        return _home(errors_of(refused, prefix=f"new-team-{department_id}-"), 422)
    record_change(
        db_session(), actor(), "team.create", f"{department.name} / {team.name}", headcount=team.headcount
    )
    db_session().commit()
    return redirect(url_for("admin.team", team_id=team.id), code=303)


def _team_page(team: Team, errors: dict[str, str] | None = None, status: int = 200, **context: Any) -> Any:
    session = db_session()
    settings = runtime().settings
    movable_to = [
        d for d in accounts.departments_in_scope(session, actor()) if d.id != team.department_id and d.active
    ]
    page = render_template(
        "admin/team.html",
        team=team,
        movable_to=movable_to,
        errors=errors or {},
        rating_link=_public_link(f"/r/{team.join_code}"),
        kiosk_link=_public_link(f"/k/{team.kiosk_token}") if team.kiosk_token else None,
        weaker_guarantee=kiosk.WEAKER_GUARANTEE,
        cooldown=settings.kiosk_cooldown_seconds,
        **context,
    )
    return page, status


def _public_link(path: str) -> str:
    return public_base_url() + path


@bp.get("/teams/<int:team_id>")
@signed_in_required
def team(team_id: int) -> Any:
    found = _team(team_id)
    require_team(found)
    return _team_page(found, notice=request.args.get("done", ""))


@bp.post("/teams/<int:team_id>")
@signed_in_required
def update_team(team_id: int) -> Any:
    found = _team(team_id, write=True)
    require_team(found)
    before = {"name": found.name, "headcount": found.headcount, "active": found.active}
    try:
        data = read_form(TeamForm())
        structure_edit.update_team(
            db_session(), found, name=data["name"], headcount=data["headcount"], active=data["active"]
        )
    except (FormRefused, InvalidInput) as refused:
        db_session().rollback()
        return _team_page(_team(team_id), errors_of(refused), 422)
    record_change(db_session(), actor(), "team.update", found.name, before=before, after=data)
    db_session().commit()
    return redirect(url_for("admin.team", team_id=team_id, done="saved"), code=303)


@bp.post("/teams/<int:team_id>/move")
@signed_in_required
def move_team(team_id: int) -> Any:
    found = _team(team_id, write=True)
    require_team(found)  # you must manage where it is now...
    try:
        data = read_form(MoveTeamForm())
    except FormRefused as refused:
        return _team_page(found, refused.errors, 422)
    target = _department(data["department_id"], write=True)
    require_department(target.id)  # ...and where it goes
    source = found.department.name
    try:
        structure_edit.move_team(db_session(), found, target)
    except InvalidInput as refused:
        db_session().rollback()
        return _team_page(_team(team_id), errors_of(refused), 422)
    record_change(db_session(), actor(), "team.move", found.name, source=source, to=target.name)
    db_session().commit()
    return redirect(url_for("admin.team", team_id=team_id, done="moved"), code=303)


@bp.post("/teams/<int:team_id>/join-code")
@signed_in_required
def rotate_join_code(team_id: int) -> Any:
    found = _team(team_id, write=True)
    require_team(found)
    structure.rotate_join_code(db_session(), found)
    record_change(db_session(), actor(), "team.rotate_join_code", found.name)
    db_session().commit()
    return redirect(url_for("admin.team", team_id=team_id, done="rotated"), code=303)


@bp.post("/teams/<int:team_id>/kiosk")
@signed_in_required
def set_kiosk(team_id: int) -> Any:
    found = _team(team_id, write=True)
    require_team(found)
    try:
        data = read_form(KioskForm())
        if data["action"] == "enable":
            kiosk.enable_kiosk(db_session(), found)
        else:
            kiosk.disable_kiosk(db_session(), found)
    except FormRefused as refused:
        return _team_page(found, refused.errors, 422)
    except kiosk.KioskNotAllowed as refused:
        db_session().rollback()
        return _team_page(_team(team_id), {"kiosk": str(refused)}, 422)
    record_change(db_session(), actor(), f"team.kiosk_{data['action']}", found.name)
    db_session().commit()
    done = "kiosk-on" if data["action"] == "enable" else "kiosk-off"
    return redirect(url_for("admin.team", team_id=team_id, done=done), code=303)


@bp.get("/structure.csv")
@admin_required
def structure_csv() -> Response:
    body = export_structure(db_session())
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="pulse-structure.csv"'},
    )


@bp.post("/structure")
@admin_required
def import_structure_csv() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _home({"import": "Choose a CSV file to import."}, 422)
    raw = upload.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return _home({"import": "The file is larger than 2 MB."}, 413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _home({"import": "Save the file as CSV (UTF-8) and try again."}, 422)
    session = db_session(write=True)
    try:
        rows = read_structure_csv(text)
        report = import_structure(session, rows)
    except StructureImportError as refused:
        session.rollback()
        return _home({"import": "Nothing was imported."}, 422, import_errors=refused.errors)
    record_change(session, actor(), "structure.import", upload.filename, rows=len(rows))
    session.commit()
    return _home(import_report=report)
