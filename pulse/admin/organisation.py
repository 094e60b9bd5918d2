"""Organisation settings (administrators only): shift bands, reasons, support links, k, dashboard access.

Each form posts to its own view: parse -> service -> audit -> commit -> 303 back to its section of the page.
A refused form shows the whole page again (422) with each message beside its field and in the summary.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from pulse.admin import bp
from pulse.admin.forms import FormRefused, errors_of, read_form
from pulse.admin.security import actor, admin_required
from pulse.models import DashboardAccess
from pulse.runtime import current_k, db_session
from pulse.schemas.admin import ReasonTagForm, SettingsForm, ShiftBandForm, SupportLinkForm
from pulse.services import organisation as settings_service
from pulse.services import organisation_edit, structure, structure_edit
from pulse.services.audit_log import record_change
from pulse.services.errors import InvalidInput

K_RULE = (
    "Changing k applies to weeks published from now on. "
    "Weeks already published keep the k they were published with."
)

# Each section's inputs have ids "<prefix><field>", unique on the page; errors are keyed by those ids.
BAND, TAG, LINK = "band-", "tag-", "link-"


def _page(
    errors: dict[str, str] | None = None, status: int = 200, values: dict[str, Any] | None = None
) -> tuple[str, int]:
    session = db_session()
    page = render_template(
        "admin/organisation.html",
        bands=organisation_edit.list_all_shift_bands(session),
        tags=structure.list_reason_tags(session, include_retired=True),
        links=structure.list_support_links(session, include_retired=True),
        k=current_k(session),
        access=settings_service.dashboard_access(session).value,
        k_rule=K_RULE,
        notice=request.args.get("done", "") if status == 200 else "",
        errors=errors or {},
        values=values or {},
    )
    return page, status


def _refused(refused: FormRefused | InvalidInput, prefix: str = "") -> tuple[str, int]:
    """Show the page again with the posted values and each message beside its field."""
    db_session().rollback()
    errors = errors_of(refused, prefix)
    values = {prefix + key: value.strip() for key, value in request.form.items() if key != "csrf_token"}
    return _page(errors, 422, values)


def _back(done: str, anchor: str) -> Any:
    return redirect(url_for("admin.organisation", done=done, _anchor=anchor), code=303)


@bp.get("/organisation")
@admin_required
def organisation() -> tuple[str, int]:
    return _page()


# --- Shift bands --------------------------------------------------------------------------------------------


@bp.post("/shift-bands")
@admin_required
def create_shift_band() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(ShiftBandForm())
        band = structure_edit.create_shift_band(session, data["name"], data["start_time"], data["end_time"])
    except (FormRefused, InvalidInput) as refused:
        return _refused(refused, BAND)
    record_change(
        session,
        actor(),
        "shift_band.create",
        band.name,
        start=band.start_time.strftime("%H:%M"),
        end=band.end_time.strftime("%H:%M"),
    )
    session.commit()
    return _back("band-added", "shift-bands")


@bp.post("/shift-bands/<int:band_id>/retire")
@admin_required
def retire_shift_band(band_id: int) -> Any:
    session = db_session(write=True)
    band = organisation_edit.get_shift_band(session, band_id)
    if band is None:
        abort(404, "There is no such shift band.")
    if band.active:
        try:
            structure_edit.retire_shift_band(session, band)
        except InvalidInput as refused:
            db_session().rollback()
            return _page({f"band-{band_id}-retire": str(refused)}, 422)
        record_change(session, actor(), "shift_band.retire", band.name)
        session.commit()
    return _back("band-retired", "shift-bands")


# --- Reasons ------------------------------------------------------------------------------------------------


@bp.post("/reason-tags")
@admin_required
def create_reason_tag() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(ReasonTagForm())
        earlier = organisation_edit.find_reason_tag(session, data["label"])
        restored = earlier is not None and not earlier.active
        tag = structure_edit.create_reason_tag(session, data["label"])
    except (FormRefused, InvalidInput) as refused:
        return _refused(refused, TAG)
    record_change(session, actor(), "reason_tag.restore" if restored else "reason_tag.create", tag.label)
    session.commit()
    return _back("tag-restored" if restored else "tag-added", "reason-tags")


@bp.post("/reason-tags/<int:tag_id>/retire")
@admin_required
def retire_reason_tag(tag_id: int) -> Any:
    session = db_session(write=True)
    tag = organisation_edit.get_reason_tag(session, tag_id)
    if tag is None:
        abort(404, "There is no such reason.")
    if tag.active:
        structure_edit.retire_reason_tag(session, tag)
        record_change(session, actor(), "reason_tag.retire", tag.label)
        session.commit()
    return _back("tag-retired", "reason-tags")


# --- Support links ------------------------------------------------------------------------------------------


@bp.post("/support-links")
@admin_required
def create_support_link() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(SupportLinkForm())
        earlier = organisation_edit.find_support_link(session, data["label"])
        restored = earlier is not None and not earlier.active
        link = organisation_edit.create_support_link(session, data["label"], data["url"], data["description"])
    except (FormRefused, InvalidInput) as refused:
        return _refused(refused, LINK)
    action = "support_link.restore" if restored else "support_link.create"
    record_change(session, actor(), action, link.label, url=link.url)
    session.commit()
    return _back("link-restored" if restored else "link-added", "support-links")


@bp.post("/support-links/<int:link_id>/retire")
@admin_required
def retire_support_link(link_id: int) -> Any:
    session = db_session(write=True)
    link = organisation_edit.get_support_link(session, link_id)
    if link is None:
        abort(404, "There is no such support link.")
    if link.active:
        structure.retire_support_link(session, link.id)
        record_change(session, actor(), "support_link.retire", link.label)
        session.commit()
    return _back("link-retired", "support-links")


# --- k and dashboard access ---------------------------------------------------------------------------------


@bp.post("/settings")
@admin_required
def update_settings() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(SettingsForm())
        changed = _apply_settings(session, data["k"], DashboardAccess(data["dashboard_access"]))
    except (FormRefused, InvalidInput) as refused:
        return _refused(refused)
    session.commit()
    return _back("settings-saved" if changed else "settings-unchanged", "settings")


def _apply_settings(session: Session, k: int, access: DashboardAccess) -> bool:
    """Change what differs, auditing each change; False if nothing did."""
    k_before, access_before = current_k(session), settings_service.dashboard_access(session)
    if k != k_before:
        settings_service.set_minimum_group_size(session, k)
        record_change(session, actor(), "settings.minimum_group_size", "k", before=k_before, after=k)
    if access != access_before:
        settings_service.set_dashboard_access(session, access)
        record_change(
            session,
            actor(),
            "settings.dashboard_access",
            "dashboard",
            before=access_before.value,
            after=access.value,
        )
    return k != k_before or access != access_before
