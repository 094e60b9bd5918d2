"""The staff roster in the admin area: each team's people (add, remove, CSV in and out), the whole roster
(administrators), and printable enrolment codes. Managers act in their own departments, administrators
everywhere; every change is in the audit log (the roster services write it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Response, render_template, request, url_for

from pulse.admin import bp, lookups
from pulse.admin.forms import REFUSALS, FormRefused, commit_and_redirect, form_page, read_form, refusal_errors
from pulse.admin.security import actor, admin_required, signed_in_required
from pulse.models import Team
from pulse.qr import qr_svg
from pulse.runtime import db_session, public_base_url, runtime
from pulse.schemas.admin import RosterAddForm, RosterImportForm, TeamCodesForm
from pulse.services.accounts import roster
from pulse.services.organisation import rating_mode

# A roster of 20,000 staff is about 1 MB of CSV.
MAX_ROSTER_BYTES = 5 * 1024 * 1024
UPLOADS = {"admin.import_roster", "admin.import_team_roster", "admin.import_structure_csv"}


@bp.before_app_request
def allow_uploads() -> None:
    """CSV uploads may be larger than the rating API's small request limit (PULSE_MAX_BODY_BYTES). Set before
    anything reads the form (the CSRF check does)."""
    if request.endpoint in UPLOADS:
        request.max_content_length = MAX_ROSTER_BYTES + 64 * 1024


@bp.errorhandler(413)
def too_large(_error: Exception) -> tuple[str, int]:
    message = (
        f"The file is larger than {MAX_ROSTER_BYTES // (1024 * 1024)} MB. Split it, or ask your IT team."
    )
    return render_template("admin/error.html", title="This file is too large", message=message), 413


def local_now() -> dt.datetime:
    rt = runtime()
    return rt.now().astimezone(rt.settings.tz)


def code_validity() -> dt.timedelta:
    return dt.timedelta(days=runtime().settings.enrolment_code_days)


def read_upload() -> str:
    """The uploaded CSV file's text; FormRefused (field "file") when there is none or it cannot be read."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise FormRefused({"file": "Choose a CSV file to import."})
    raw = upload.read(MAX_ROSTER_BYTES + 1)
    if len(raw) > MAX_ROSTER_BYTES:
        raise FormRefused({"file": f"The file is larger than {MAX_ROSTER_BYTES // (1024 * 1024)} MB."})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormRefused({"file": "Save the file as CSV (UTF-8) and try again."}) from error


def _import(team: Team | None, page: Callable[..., tuple[str, int]]) -> tuple[str, int]:
    """Import the posted file (for one team, or the whole roster) as the posted form says, and show `page`
    with the report; or, nothing imported, `page` again (422) with what was refused: the form, or each bad
    row."""
    try:
        data = read_form(RosterImportForm())
        rows = roster.read_roster_csv(read_upload())
        report = roster.import_roster(
            db_session(),
            actor(),
            rows,
            today=local_now().date(),
            replace=data["replace"],
            team=team,
            source=request.files["file"].filename or "roster.csv",
        )
    except FormRefused as refused:
        return page(refused.errors, 422)
    except roster.RosterImportError as refused:
        db_session().rollback()
        return page({"file": "Nothing was imported."}, 422, import_errors=refused.errors)
    db_session().commit()
    return page(import_report=report)


def _csv(body: str, filename: str) -> Response:
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


NOBODY_TO_ISSUE = (
    "Everyone active on this roster already has an enrolled phone. Tick the box to give them new codes "
    "anyway."
)


# --- One team's roster -------------------------------------------------------------------------------------


def _team_roster_page(
    team: Team, errors: dict[str, str] | None = None, status: int = 200, **context: Any
) -> tuple[str, int]:
    session = db_session()
    lines = roster.team_roster(session, team)
    codes = roster.latest_code_statuses(session, [line.person for line in lines], local_now())
    return form_page(
        "admin/team_roster.html",
        errors,
        status,
        team=team,
        lines=lines,
        codes=codes,
        verified=rating_mode(session).value == "verified",
        headcount=roster.team_headcount(session, team),
        code_days=runtime().settings.enrolment_code_days,
        **context,
    )


@bp.get("/teams/<id:team_id>/roster")
@signed_in_required
def team_roster(team_id: int) -> tuple[str, int]:
    return _team_roster_page(lookups.managed_team(team_id))


@bp.post("/teams/<id:team_id>/roster")
@signed_in_required
def add_to_roster(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
    session = db_session()
    try:
        data = read_form(RosterAddForm())
        _person, added = roster.add_to_team(
            session, actor(), data["identifier"], found, today=local_now().date()
        )
    except REFUSALS as refused:
        values = {"identifier": request.form.get("identifier", "").strip()}
        return _team_roster_page(lookups.managed_team(team_id), refusal_errors(refused), 422, values=values)
    return commit_and_redirect("admin.team_roster", team_id=team_id, done="added" if added else "already")


@bp.post("/teams/<id:team_id>/roster/<id:person_id>/remove")
@signed_in_required
def remove_from_roster(team_id: int, person_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
    roster.remove_from_team(db_session(), actor(), lookups.person(person_id), found)
    return commit_and_redirect("admin.team_roster", team_id=team_id, done="removed")


@bp.get("/teams/<id:team_id>/roster.csv")
@signed_in_required
def team_roster_csv(team_id: int) -> Response:
    found = lookups.managed_team(team_id)
    return _csv(roster.export_roster(db_session(), [found]), f"pulse-roster-team-{found.id}.csv")


@bp.post("/teams/<id:team_id>/roster/import")
@signed_in_required
def import_team_roster(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
    return _import(found, partial(_team_roster_page, found))


@bp.post("/teams/<id:team_id>/enrolment-codes")
@signed_in_required
def issue_team_codes(team_id: int) -> Any:
    found = lookups.managed_team(team_id, write=True)
    session = db_session()
    try:
        data = read_form(TeamCodesForm())
    except FormRefused as refused:
        return _team_roster_page(found, refused.errors, 422)
    issued = roster.issue_team_codes(
        session,
        actor(),
        found,
        now=local_now(),
        valid_for=code_validity(),
        include_enrolled=data["include_enrolled"],
    )
    if not issued:
        return _team_roster_page(found, {"include_enrolled": NOBODY_TO_ISSUE}, 422)
    session.commit()
    heading = f"{found.name} ({found.department.name})"
    return code_sheet(
        issued, heading, url_for("admin.team_roster", team_id=found.id), f"the roster of {found.name}"
    )


def code_sheet(issued: list[roster.IssuedCode], heading: str, back_url: str, back_label: str) -> Response:
    """The printable sheet: each code with its QR code. The only time the codes are ever shown."""
    base = public_base_url()
    cards = [
        {
            "identifier": code.identifier,
            "code": code.code,
            "link": f"{base}/enrol/{code.code}",
            "qr": qr_svg(f"{base}/enrol/{code.code}", f"QR code of the enrolment link for {code.identifier}"),
        }
        for code in issued
    ]
    page = render_template(
        "admin/enrolment_codes.html",
        heading=heading,
        cards=cards,
        enrol_address=f"{base}/enrol",
        expires=issued[0].expires_at.astimezone(runtime().settings.tz),
        back_url=back_url,
        back_label=back_label,
        errors={},
    )
    return Response(page, mimetype="text/html")


# --- The whole roster (administrators) ---------------------------------------------------------------------


def _roster_page(errors: dict[str, str] | None = None, status: int = 200, **context: Any) -> tuple[str, int]:
    session = db_session()
    query = request.args.get("identifier", "").strip()
    return form_page(
        "admin/roster.html",
        errors,
        status,
        missing=roster.teams_without_roster(session),
        sizes=roster.roster_sizes(session),
        verified=rating_mode(session).value == "verified",
        query=query,
        found=roster.find_person(session, query) if query else None,
        **context,
    )


@bp.get("/roster")
@admin_required
def roster_overview() -> tuple[str, int]:
    return _roster_page()


@bp.get("/roster.csv")
@admin_required
def roster_csv() -> Response:
    return _csv(roster.export_roster(db_session()), "pulse-roster.csv")


@bp.post("/roster")
@admin_required
def import_roster() -> Any:
    return _import(None, _roster_page)
