"""The organisation's structure: reading it, join codes, and creating units."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pulse.models import Department, ReasonTag, ShiftBand, SupportLink, Team
from pulse.services.errors import InvalidInput

# 12 random bytes = 96 bits, 16 URL-safe characters: short enough for a QR code, far beyond guessing.
JOIN_CODE_BYTES = 12


def new_join_code() -> str:
    return secrets.token_urlsafe(JOIN_CODE_BYTES)


def list_departments(session: Session, *, include_inactive: bool = False) -> list[Department]:
    stmt = select(Department).options(selectinload(Department.teams)).order_by(Department.name)
    if not include_inactive:
        stmt = stmt.where(Department.active.is_(True))
    return list(session.scalars(stmt))


def get_department(session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id, options=[selectinload(Department.teams)])


def list_teams(
    session: Session, *, department_id: int | None = None, include_inactive: bool = False
) -> list[Team]:
    stmt = select(Team).order_by(Team.department_id, Team.name)
    if department_id is not None:
        stmt = stmt.where(Team.department_id == department_id)
    if not include_inactive:
        stmt = stmt.where(Team.active.is_(True))
    return list(session.scalars(stmt))


def get_team(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def find_team_by_join_code(session: Session, join_code: str) -> Team | None:
    return session.scalar(select(Team).where(Team.join_code == join_code, Team.active.is_(True)))


def list_shift_bands(session: Session) -> list[ShiftBand]:
    return list(
        session.scalars(select(ShiftBand).where(ShiftBand.active.is_(True)).order_by(ShiftBand.start_time))
    )


def list_reason_tags(session: Session, *, include_retired: bool = False) -> list[ReasonTag]:
    stmt = select(ReasonTag).order_by(ReasonTag.label)
    if not include_retired:
        stmt = stmt.where(ReasonTag.active.is_(True))
    return list(session.scalars(stmt))


def rotate_join_code(session: Session, team: Team) -> str:
    """Give `team` a new join code; the old one stops working at once (404 on the rating API)."""
    team.join_code = new_join_code()
    session.flush()
    return team.join_code


def add_department(session: Session, name: str) -> Department:
    department = Department(name=name)
    session.add(department)
    session.flush()
    return department


def add_team(
    session: Session, department: Department, name: str, headcount: int, active: bool = True
) -> Team:
    team = Team(
        department=department, name=name, headcount=headcount, active=active, join_code=new_join_code()
    )
    session.add(team)
    session.flush()
    return team


def add_shift_band(session: Session, name: str, start: dt.time, end: dt.time) -> ShiftBand:
    band = ShiftBand(name=name, start_time=start, end_time=end)
    session.add(band)
    session.flush()
    return band


def add_reason_tag(session: Session, label: str) -> ReasonTag:
    tag = ReasonTag(label=label)
    session.add(tag)
    session.flush()
    return tag


SUPPORT_LINK_SCHEMES = ("https://", "http://", "tel:", "mailto:")


def check_support_link_url(url: str) -> None:
    """Raise InvalidInput (naming "url") unless `url` is a whole https, http, tel or mailto address."""
    if not url.startswith(SUPPORT_LINK_SCHEMES) or any(c.isspace() for c in url):
        raise InvalidInput(
            "The link must start with https://, http://, tel: or mailto:, with no spaces.", "url"
        )
    if url.endswith(("://", ":")):
        raise InvalidInput("Enter the whole address, like https://wellbeing.example.nhs.uk.", "url")


def add_support_link(session: Session, label: str, url: str, description: str = "") -> SupportLink:
    """A place to find support, listed after a tough shift. Raises InvalidInput for an unusable link."""
    label, url, description = label.strip(), url.strip(), description.strip()
    if not label:
        raise InvalidInput("Give the link a label, such as 'Staff wellbeing service'.", "label")
    check_support_link_url(url)
    if session.scalar(select(SupportLink.id).where(SupportLink.label == label)) is not None:
        raise InvalidInput(f"There is already a support link labelled {label!r}.", "label")
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
