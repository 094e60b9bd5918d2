"""Departments and teams: create, rename, move, deactivate; headcount; join codes; ward posters; kiosk
tablets; the structure CSV. Managers act in their own departments, administrators everywhere."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from pulse.admin import bp, lookups
from pulse.admin.forms import REFUSALS, FormRefused, commit_and_redirect, form_page, read_form, refusal_errors
from pulse.admin.security import actor, admin_required, signed_in_required
from pulse.models import Department, RatingMode, Team
from pulse.runtime import current_k, db_session, local_today, public_base_url, runtime
from pulse.schemas.admin import DepartmentForm, KioskForm, MoveTeamForm, ReplaceLinkForm, TeamForm
from pulse.services import accounts, structure
from pulse.services.accounts import record_change, roster
from pulse.services.errors import InvalidInput
from pulse.services.organisation import rating_mode
from pulse.services.rating import kiosk
from pulse.services.structure import (
    StructureImportError,
    export_structure,
    import_structure,
    read_structure_csv,
)

MAX_CSV_BYTES = 2 * 1024 * 1024


def _home(errors: dict[str, str] | None = None, status: int = 200, **context: Any) -> tuple[str, int]:
    """Departments folded, one line each, so that 60 teams are not one long page; a search narrows them
    down to the teams whose name (or whose department's name) holds what was typed."""
    session = db_session()
    departments = accounts.departments_in_scope(session, actor())
    query = " ".join(request.args.get("q", "").split())
    shown = [(d, d.teams) for d in departments]
    if query:
        wanted = query.casefold()
        shown = [
            (
                d,
                d.teams
                if wanted in d.name.casefold()
                else [t for t in d.teams if wanted in t.name.casefold()],
            )
            for d in departments
        ]
        shown = [(d, teams) for d, teams in shown if teams or wanted in d.name.casefold()]
    return form_page(
        "admin/home.html",
        errors,
        status,
        departments=departments,
        shown=shown,
        query=query,
        open_id=request.args.get("open", type=int),
        k=current_k(session),
        # The roster size in verified mode.
        headcounts=roster.team_headcounts(session, [team for d in departments for team in d.teams]),
        **context,
    )


def _to_department(department: Department) -> Any:
    """Commit the change, and back to the home page, the department unfolded."""
    return commit_and_redirect("admin.home", open=department.id, _anchor=f"department-{department.id}")


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
        department = structure.create_department(session, data["name"])
    except REFUSALS as refused:
        return _home(refusal_errors(refused), 422)
    record_change(session, actor(), "department.create", department.name)
    return _to_department(department)


@bp.post("/departments/<id:department_id>")
@admin_required
def update_department(department_id: int) -> Any:
    department = lookups.department(department_id, write=True)
    before = (department.name, department.active)
    try:
        data = read_form(DepartmentForm())
        structure.update_department(db_session(), department, name=data["name"], active=data["active"])
    except REFUSALS as refused:
        return _home(refusal_errors(refused, prefix=f"department-{department_id}-"), 422)
    record_change(
        db_session(),
        actor(),
        "department.update",
        department.name,
        before=list(before),
        active=department.active,
    )
    return _to_department(department)


@bp.post("/departments/<id:department_id>/teams")
@signed_in_required
def create_team(department_id: int) -> Any:
    department = lookups.managed_department(department_id, write=True)
    try:
        data = read_form(TeamForm())
        team = structure.create_team(db_session(), department, data["name"], data["headcount"])
    except REFUSALS as refused:
        return _home(refusal_errors(refused, prefix=f"new-team-{department_id}-"), 422)
    record_change(
        db_session(), actor(), "team.create", f"{department.name} / {team.name}", headcount=team.headcount
    )
    return commit_and_redirect("admin.team", team_id=team.id)


def _team_page(team: Team, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    session = db_session()
    movable_to = [
        d for d in accounts.departments_in_scope(session, actor()) if d.id != team.department_id and d.active
    ]
    return form_page(
        "admin/team.html",
        errors,
        status,
        team=team,
        k=current_k(session),
        movable_to=movable_to,
        rating_link=_public_link(f"/r/{team.join_code}"),
        kiosk_link=_public_link(f"/k/{team.kiosk_token}") if team.kiosk_token else None,
        weaker_guarantee=kiosk.WEAKER_GUARANTEE,
        cooldown=runtime().settings.kiosk_cooldown_seconds,
        headcount=roster.team_headcount(session, team),
        verified=rating_mode(session) == RatingMode.VERIFIED,
    )


def _team_refused(team_id: int, refused: FormRefused | InvalidInput) -> tuple[str, int]:
    """The team's page again (422), read afresh after the roll back, with the message beside its field."""
    return _team_page(lookups.team(team_id), refusal_errors(refused), 422)


def _to_team(team_id: int, done: str) -> Any:
    """Commit the change, and back to the team's page with its notice."""
    return commit_and_redirect("admin.team", team_id=team_id, done=done)


def _public_link(path: str) -> str:
    return public_base_url() + path


@bp.get("/teams/<id:team_id>")
@signed_in_required
def team(team_id: int) -> Any:
    return _team_page(lookups.managed_team(team_id))


@bp.post("/teams/<id:team_id>")
@signed_in_required
def update_team(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
    before = {"name": found.name, "headcount": found.headcount, "active": found.active}
    try:
        data = read_form(TeamForm())
        structure.update_team(
            db_session(),
            found,
            name=data["name"],
            headcount=data["headcount"],
            active=data["active"],
            today=local_today(),
        )
    except REFUSALS as refused:
        return _team_refused(team_id, refused)
    record_change(db_session(), actor(), "team.update", found.name, before=before, after=data)
    return _to_team(team_id, "saved")


@bp.post("/teams/<id:team_id>/move")
@signed_in_required
def move_team(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)  # you must manage where it is now...
    try:
        data = read_form(MoveTeamForm())
    except FormRefused as refused:
        return _team_page(found, refused.errors, 422)
    target = lookups.managed_department(data["department_id"], write=True)  # ...and where it goes
    source = found.department.name
    try:
        structure.move_team(db_session(), found, target)
    except REFUSALS as refused:
        return _team_refused(team_id, refused)
    record_change(db_session(), actor(), "team.move", found.name, source=source, to=target.name)
    return _to_team(team_id, "moved")


@bp.get("/teams/<id:team_id>/join-code")
@signed_in_required
def confirm_rotate_join_code(team_id: int) -> Any:
    """Replacing the link breaks every poster of the team: say so, and ask first."""
    found = lookups.managed_team(team_id)
    return render_template("admin/replace_link.html", team=found, errors={})


@bp.post("/teams/<id:team_id>/join-code")
@signed_in_required
def rotate_join_code(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
    try:
        read_form(ReplaceLinkForm())
    except FormRefused as refused:
        return render_template("admin/replace_link.html", team=found, errors=refused.errors), 422
    structure.rotate_join_code(db_session(), found)
    record_change(db_session(), actor(), "team.rotate_join_code", found.name)
    return _to_team(team_id, "rotated")


@bp.post("/teams/<id:team_id>/kiosk")
@signed_in_required
def set_kiosk(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
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
        return _team_page(lookups.team(team_id), {"kiosk": str(refused)}, 422)
    record_change(db_session(), actor(), f"team.kiosk_{data['action']}", found.name)
    return _to_team(team_id, "kiosk-on" if data["action"] == "enable" else "kiosk-off")


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
        report = import_structure(session, rows, today=local_today())
    except StructureImportError as refused:
        session.rollback()
        return _home({"import": "Nothing was imported."}, 422, import_errors=refused.errors)
    record_change(session, actor(), "structure.import", upload.filename, rows=len(rows))
    session.commit()
    return _home(import_report=report)
