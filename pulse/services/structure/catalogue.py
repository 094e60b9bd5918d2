"""The catalogue: shift bands, reason tags and support links, retired ones too; reading, adding, retiring and
bringing them back. Support links are added by add_support_link alone (admin area, command line, demo).

Retiring never deletes: published weeks keep their bands and reasons (docs/anonymity.md A21).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.models import ReasonTag, ShiftBand, SupportLink
from pulse.services.errors import InvalidInput
from pulse.services.structure.units import set_active


def list_shift_bands(session: Session) -> list[ShiftBand]:
    return list(
        session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True)).order_by(ShiftBand.start_time))
    )


def list_all_shift_bands(session: Session) -> list[ShiftBand]:
    """Active bands first, in the order of the day, then retired ones."""
    stmt = select(ShiftBand).order_by(ShiftBand.active.desc(), ShiftBand.start_time, ShiftBand.name)
    return list(session.scalars(stmt))


def get_shift_band(session: Session, band_id: int) -> ShiftBand | None:
    return session.get(ShiftBand, band_id)


def add_shift_band(session: Session, name: str, start: dt.time, end: dt.time) -> ShiftBand:
    band = ShiftBand(name=name, start_time=start, end_time=end)
    session.add(band)
    session.flush()
    return band


def create_shift_band(session: Session, name: str, start: dt.time, end: dt.time) -> ShiftBand:
    if start == end:
        raise InvalidInput("A shift band must not start and end at the same time.", "end_time")
    existing = session.scalar(select(ShiftBand).where(func.lower(ShiftBand.name) == name.lower()))
    if existing is not None and existing.active:
        raise InvalidInput(f"There is already a shift band called {name}.", "name")
    if existing is not None:
        # A retired band comes back only as it was: its published history is dated by its old times.
        if (existing.start_time, existing.end_time) != (start, end):
            raise InvalidInput(
                f"A retired band is called {existing.name} ({existing.start_time:%H:%M} to "
                f"{existing.end_time:%H:%M}). Give the same times to bring it back, or choose another name.",
                "name",
            )
        existing.active, existing.retired_on = True, None
        session.flush()
        return existing
    return add_shift_band(session, name, start, end)


def retire_shift_band(session: Session, band: ShiftBand, today: dt.date) -> None:
    """Stop offering a band for new ratings from `today`. It stays, with its history, for published weeks, and
    in every week up to today's."""
    if band.active and len(list_shift_bands(session)) == 1:
        raise InvalidInput("Keep at least one shift band, or nobody can rate.", "band_id")
    set_active(band, False, today)
    session.flush()


def list_reason_tags(session: Session, *, include_retired: bool = False) -> list[ReasonTag]:
    stmt = select(ReasonTag).order_by(ReasonTag.label)
    if not include_retired:
        stmt = stmt.where(ReasonTag.active.is_(True))
    return list(session.scalars(stmt))


def get_reason_tag(session: Session, tag_id: int) -> ReasonTag | None:
    return session.get(ReasonTag, tag_id)


def find_reason_tag(session: Session, label: str) -> ReasonTag | None:
    """The reason with this label, ignoring case: adding it again brings a retired one back."""
    return session.scalar(select(ReasonTag).where(func.lower(ReasonTag.label) == label.strip().lower()))


def add_reason_tag(session: Session, label: str) -> ReasonTag:
    tag = ReasonTag(label=label)
    session.add(tag)
    session.flush()
    return tag


def create_reason_tag(session: Session, label: str) -> ReasonTag:
    existing = session.scalar(select(ReasonTag).where(func.lower(ReasonTag.label) == label.lower()))
    if existing is not None and existing.active:
        raise InvalidInput(f"There is already a reason called {label}.", "label")
    if existing is not None:  # bring a retired reason back, with its history
        existing.active = True
        session.flush()
        return existing
    return add_reason_tag(session, label)


def retire_reason_tag(session: Session, tag: ReasonTag) -> None:
    """Stop offering a reason. It is kept, with its counts, for published weeks."""
    tag.active = False
    session.flush()


SUPPORT_LINK_SCHEMES = ("https://", "http://", "tel:", "mailto:")


def check_support_link_url(url: str) -> None:
    """Raise InvalidInput (naming "url") unless `url` is a whole https, http, tel or mailto address."""
    if not url.startswith(SUPPORT_LINK_SCHEMES) or any(c.isspace() for c in url):
        raise InvalidInput(
            "The link must start with https://, http://, tel: or mailto:, with no spaces.", "url"
        )
    if url.endswith(("://", ":")):
        raise InvalidInput("Enter the whole address, like https://wellbeing.example.nhs.uk.", "url")


def find_support_link(session: Session, label: str) -> SupportLink | None:
    """The support link with this label, ignoring case, retired or not."""
    return session.scalar(select(SupportLink).where(func.lower(SupportLink.label) == label.strip().lower()))


def get_support_link(session: Session, link_id: int) -> SupportLink | None:
    return session.get(SupportLink, link_id)


def add_support_link(session: Session, label: str, url: str, description: str = "") -> SupportLink:
    """A place to find support, listed after a tough shift; the one way to add one (admin area, command
    line, demo). A retired link with the same label, in any case, comes back with the new address and
    description, in its old place. Raises InvalidInput naming the field at fault: an unusable link, or a
    label (in any case) that a link staff still see has."""
    label, url, description = label.strip(), url.strip(), description.strip()
    check_support_link_url(url)
    if not label:
        raise InvalidInput("Give the link a label, such as 'Staff wellbeing service'.", "label")
    existing = find_support_link(session, label)
    if existing is not None and existing.active:
        raise InvalidInput(f"There is already a support link labelled {existing.label}.", "label")
    if existing is not None:
        existing.active, existing.url, existing.description = True, url, description
        session.flush()
        return existing
    position = (session.scalar(select(func.max(SupportLink.position))) or 0) + 1
    link = SupportLink(label=label, url=url, description=description, position=position)
    session.add(link)
    session.flush()
    return link


def retire_support_link(session: Session, link_id: int) -> SupportLink | None:
    """Stop showing a support link; it is kept, retired, like a reason tag."""
    link = session.get(SupportLink, link_id)
    if link is not None:
        link.active = False
        session.flush()
    return link


def list_support_links(session: Session, *, include_retired: bool = False) -> list[SupportLink]:
    """The support links staff see after a tough shift, in the organisation's order."""
    stmt = select(SupportLink).order_by(SupportLink.position, SupportLink.label)
    if not include_retired:
        stmt = stmt.where(SupportLink.active.is_(True))
    return list(session.scalars(stmt))
