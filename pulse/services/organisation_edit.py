"""What the organisation settings page reads and changes beyond structure_edit: every shift band, reason and
support link (retired ones too), and support links refused with the field at fault.

Retiring never deletes: published weeks keep their bands and reasons (PRIVACY.md L6).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import ReasonTag, ShiftBand, SupportLink
from pulse.services import structure
from pulse.services.errors import InvalidInput


def list_all_shift_bands(session: Session) -> list[ShiftBand]:
    """Active bands first, in the order of the day, then retired ones."""
    stmt = select(ShiftBand).order_by(ShiftBand.active.desc(), ShiftBand.start_time, ShiftBand.name)
    return list(session.scalars(stmt))


def get_shift_band(session: Session, band_id: int) -> ShiftBand | None:
    return session.get(ShiftBand, band_id)


def get_reason_tag(session: Session, tag_id: int) -> ReasonTag | None:
    return session.get(ReasonTag, tag_id)


def get_support_link(session: Session, link_id: int) -> SupportLink | None:
    return session.get(SupportLink, link_id)


def find_reason_tag(session: Session, label: str) -> ReasonTag | None:
    """The reason with this label, ignoring case: adding it again brings a retired one back."""
    return session.scalar(select(ReasonTag).where(func.lower(ReasonTag.label) == label.strip().lower()))


def find_support_link(session: Session, label: str) -> SupportLink | None:
    """The support link with this label, ignoring case, retired or not."""
    return session.scalar(select(SupportLink).where(func.lower(SupportLink.label) == label.strip().lower()))


def create_support_link(session: Session, label: str, url: str, description: str = "") -> SupportLink:
    """Add a support link, or bring back a retired one with the same label (with the new address).

    Refusals name the field at fault, so the admin page can show them beside it.
    """
    label, url, description = label.strip(), url.strip(), description.strip()
    structure.check_support_link_url(url)
    existing = find_support_link(session, label)
    if existing is not None and existing.active:
        raise InvalidInput(f"There is already a support link labelled {existing.label}.", "label")
    if existing is not None:
        existing.active, existing.url, existing.description = True, url, description
        session.flush()
        return existing
    return structure.add_support_link(session, label, url, description)
