"""Builders for a small organisation in tests."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pulse.models import Department, ReasonTag, ShiftBand, Team
from pulse.services import structure
from pulse.services.rating import MixReport


@dataclass
class Org:
    department: Department
    teams: list[Team]
    bands: dict[str, ShiftBand]
    tags: list[ReasonTag]

    @property
    def team(self) -> Team:
        return self.teams[0]


def make_org(session: Session, *, teams: int = 2, headcount: int = 20) -> Org:
    department = structure.add_department(session, "Emergency Department")
    team_list = [structure.add_team(session, department, f"Team {i + 1}", headcount) for i in range(teams)]
    bands = {
        "Early": structure.add_shift_band(session, "Early", dt.time(7, 0), dt.time(15, 0)),
        "Late": structure.add_shift_band(session, "Late", dt.time(14, 30), dt.time(22, 30)),
        "Night": structure.add_shift_band(session, "Night", dt.time(22, 0), dt.time(7, 30)),
    }
    tags = [structure.add_reason_tag(session, label) for label in ("Staffing levels", "Teamwork", "Workload")]
    session.commit()
    return Org(department, team_list, bands, tags)


def enable_kiosk(session: Session, team: Team) -> str:
    """Switch kiosk mode on for `team` (committed) and return the tablet's token."""
    from pulse.services.rating.kiosk import enable_kiosk as enable

    token = enable(session, team)
    session.commit()
    return token


def device_secret() -> str:
    return secrets.token_urlsafe(32)


def rating_body(join_code: str, colour: str = "green", **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "join_code": join_code,
        "colour": colour,
        "device_secret": device_secret(),
        "idempotency_key": secrets.token_hex(16),
    }
    body.update(extra)
    return body


def add_week(
    session: Session,
    org: Org,
    week: dt.date,
    figures: dict[int, tuple[int, int, int, int]],
    *,
    days: int = 7,
) -> None:
    """Add ratings for a week through the real tally path: {team index: (red, amber, green, contributors)}.

    Each team's ratings are spread over the week's days and bands in turn, so the organisation's shift
    tallies agree with the team tallies exactly as they do for live ratings.
    """
    from pulse.services.tallies import TallyDelta, apply_delta

    delta = TallyDelta()
    slots = [(week + dt.timedelta(days=d), band.id) for d in range(days) for band in org.bands.values()]
    for index, (red, amber, green, contributors) in figures.items():
        colours = ["red"] * red + ["amber"] * amber + ["green"] * green
        assert contributors <= len(colours), "each contributor rates at least once"
        for i, colour in enumerate(colours):
            shift_date, band_id = slots[i % len(slots)]
            delta.add_rating(
                team_id=org.teams[index].id,
                week=week,
                shift_date=shift_date,
                band_id=band_id,
                colour=colour,
                new_contributor=i < contributors,
                new_day_contributor=True,
                new_week_contributor=i < contributors,  # each team's raters are people of its own
            )
    apply_delta(session, delta)
    session.commit()


def mix_for(session: Session) -> MixReport:
    """Mix the sealed inbox of the app that `session` (the `session` fixture) belongs to, and end the
    session's read snapshot so that its next read sees the tallies as mixed."""
    session.rollback()
    return mix(session.info["app"])


def mix(app) -> MixReport:  # type: ignore[no-untyped-def]
    """Mix whatever waits in the sealed inbox into the tallies now, as `pulse mix` does."""
    from pulse.services.rating import KeyFiles, Schedule
    from pulse.services.rating import mix as mix_inbox

    rt = app.extensions["pulse"]
    settings = rt.settings
    schedule = Schedule(
        settings.tz,
        settings.grace,
        settings.min_group_size,
        settings.mix_minutes,
    )
    return mix_inbox(rt.write_session_factory, KeyFiles(settings.inbox_keys), rt.now(), schedule, force=True)
