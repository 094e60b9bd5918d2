"""Organisation settings (administrators only): shift bands, reasons, support links, k, dashboard access, and
the rating mode (its view is in rating_mode.py).

Each form posts to its own view: parse -> service -> audit -> commit -> 303 back to its section of the page.
A refused form shows the whole page again (422) with each message beside its field and in the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from pulse.admin import bp, lookups
from pulse.admin.forms import REFUSALS, FormRefused, commit_and_redirect, form_page, read_form, refusal_errors
from pulse.admin.security import actor, admin_required
from pulse.models import DashboardAccess, ReasonTag, ShiftBand, SupportLink
from pulse.runtime import current_k, db_session, local_today, runtime
from pulse.schemas.admin import ReasonTagForm, SettingsForm, ShiftBandForm, SupportLinkForm
from pulse.services import organisation as settings_service
from pulse.services import structure
from pulse.services.accounts import record_change, roster
from pulse.services.errors import InvalidInput

K_RULE = (
    "Changing k applies to weeks published from now on. "
    "Weeks already published keep the k they were published with."
)

Entry = ShiftBand | ReasonTag | SupportLink


def _retired(earlier: Entry | None) -> bool:
    """Whether there is a retired entry of the name being added: adding brings it back, with its history."""
    return earlier is not None and not earlier.active


@dataclass(frozen=True)
class Section:
    """One of the page's lists whose entries are retired, never deleted: added, brought back by adding one of
    the same name again, retired. Each is audited as "<kind>.create", ".restore" or ".retire"; its inputs'
    ids and its notices start with `prefix` (ids unique on the page, errors keyed by them)."""

    kind: str
    prefix: str
    anchor: str

    def added(self, name: str, restored: bool = False, **detail: Any) -> Any:
        """Audit the new entry (or the retired one of that name, brought back), and back to the section."""
        record_change(
            db_session(), actor(), f"{self.kind}.{'restore' if restored else 'create'}", name, **detail
        )
        return show_section(self.prefix + ("restored" if restored else "added"), self.anchor)

    def retire(self, entry: Entry, name: str, retire: Callable[[], object]) -> Any:
        """Retire the entry, audited, unless it already is (a second click changes nothing)."""
        if entry.active:
            retire()
            record_change(db_session(), actor(), f"{self.kind}.retire", name)
        return show_section(self.prefix + "retired", self.anchor)


BANDS = Section("shift_band", "band-", "shift-bands")
TAGS = Section("reason_tag", "tag-", "reason-tags")
LINKS = Section("support_link", "link-", "support-links")


def _page(
    errors: dict[str, str] | None = None, status: int = 200, values: dict[str, Any] | None = None
) -> tuple[str, int]:
    session = db_session()
    return form_page(
        "admin/organisation.html",
        errors,
        status,
        values,
        bands=structure.list_all_shift_bands(session),
        tags=structure.list_reason_tags(session, include_retired=True),
        links=structure.list_support_links(session, include_retired=True),
        k=current_k(session),
        access=settings_service.dashboard_access(session).value,
        rating_mode=settings_service.rating_mode(session).value,
        missing_rosters=roster.teams_without_roster(session),
        open_promise=roster.OPEN_PROMISE,
        verified_promise=roster.VERIFIED_PROMISE,
        device_days=runtime().settings.dashboard_device_days,
        k_rule=K_RULE,
    )


def page_with_errors(errors: dict[str, str], values: dict[str, Any] | None = None) -> tuple[str, int]:
    """The page again (422): these messages beside their fields and in the summary, and what was chosen."""
    return _page(errors, 422, values)


def _refused(refused: FormRefused | InvalidInput, prefix: str = "") -> tuple[str, int]:
    """Show the page again with the posted values and each message beside its field."""
    errors = refusal_errors(refused, prefix)
    values = {prefix + key: value.strip() for key, value in request.form.items() if key != "csrf_token"}
    return _page(errors, 422, values)


def show_section(done: str, anchor: str) -> Any:
    """Commit the change, and back to its section of the page with its notice."""
    return commit_and_redirect("admin.organisation", done=done, _anchor=anchor)


@bp.get("/organisation")
@admin_required
def organisation() -> tuple[str, int]:
    return _page()


# --- Shift bands --------------------------------------------------------------------------------------------


@bp.post("/shift-bands")
@admin_required
def create_shift_band() -> Any:
    try:
        data = read_form(ShiftBandForm())
        band = structure.create_shift_band(
            db_session(write=True), data["name"], data["start_time"], data["end_time"]
        )
    except REFUSALS as refused:
        return _refused(refused, BANDS.prefix)
    return BANDS.added(
        band.name, start=band.start_time.strftime("%H:%M"), end=band.end_time.strftime("%H:%M")
    )


@bp.post("/shift-bands/<id:band_id>/retire")
@admin_required
def retire_shift_band(band_id: int) -> Any:
    band = lookups.found(structure.get_shift_band(db_session(write=True), band_id), "shift band")
    try:
        return BANDS.retire(
            band, band.name, lambda: structure.retire_shift_band(db_session(), band, local_today())
        )
    except InvalidInput as refused:  # the last active band
        return _page(refusal_errors(refused, field_ids={"band_id": f"band-{band_id}-retire"}), 422)


# --- Reasons ------------------------------------------------------------------------------------------------


@bp.post("/reason-tags")
@admin_required
def create_reason_tag() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(ReasonTagForm())
        restored = _retired(structure.find_reason_tag(session, data["label"]))
        tag = structure.create_reason_tag(session, data["label"])
    except REFUSALS as refused:
        return _refused(refused, TAGS.prefix)
    return TAGS.added(tag.label, restored)


@bp.post("/reason-tags/<id:tag_id>/retire")
@admin_required
def retire_reason_tag(tag_id: int) -> Any:
    tag = lookups.found(structure.get_reason_tag(db_session(write=True), tag_id), "reason")
    return TAGS.retire(tag, tag.label, lambda: structure.retire_reason_tag(db_session(), tag))


# --- Support links ------------------------------------------------------------------------------------------


@bp.post("/support-links")
@admin_required
def create_support_link() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(SupportLinkForm())
        restored = _retired(structure.find_support_link(session, data["label"]))
        link = structure.add_support_link(session, data["label"], data["url"], data["description"])
    except REFUSALS as refused:
        return _refused(refused, LINKS.prefix)
    return LINKS.added(link.label, restored, url=link.url)


@bp.post("/support-links/<id:link_id>/retire")
@admin_required
def retire_support_link(link_id: int) -> Any:
    link = lookups.found(structure.get_support_link(db_session(write=True), link_id), "support link")
    return LINKS.retire(link, link.label, lambda: structure.retire_support_link(db_session(), link.id))


# --- k and dashboard access ---------------------------------------------------------------------------------


@bp.post("/settings")
@admin_required
def update_settings() -> Any:
    session = db_session(write=True)
    try:
        data = read_form(SettingsForm())
        changed = _apply_settings(session, data["k"], DashboardAccess(data["dashboard_access"]))
    except REFUSALS as refused:
        return _refused(refused)
    return show_section("settings-saved" if changed else "settings-unchanged", "settings")


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


@bp.post("/dashboard-devices/revoke")
@admin_required
def revoke_dashboard_devices() -> Any:
    """End every staff device's dashboard access (for a lost tablet, or a link that was shared too widely):
    each device may view again once it opens its team's rating link."""
    session = db_session(write=True)
    generation = settings_service.revoke_dashboard_devices(session)
    record_change(session, actor(), "settings.dashboard_devices_revoked", "dashboard", generation=generation)
    return show_section("devices-revoked", "settings")
