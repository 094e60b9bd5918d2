"""A few days of a small organisation rating through the real HTTP API, with the ground truth kept.

Four teams in two departments, three shift bands, three reason tags, a ward tablet (kiosk) on one team,
reasons sent with ratings and added afterwards, people who rate on several days, and the routine
maintenance run on its schedule (which purges closed keys). Seeded, so each run rates alike.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient

from pulse.services import structure
from pulse.services.rating.kiosk import enable_kiosk
from tests.conftest import LONDON, FakeClock
from tests.privacy.maintenance import Maintenance, measure_delta
from tests.privacy.reconstruction import Rating

FIRST_DAY = dt.date(2026, 11, 15)  # a Sunday: the scenario spans two ISO weeks
DAYS = 4
# When in each band the scenario's ratings arrive (local time, days after the shift date).
BAND_TIMES = {"Early": (0, dt.time(13, 0)), "Late": (0, dt.time(20, 30)), "Night": (1, dt.time(5, 30))}


@dataclass
class Organisation:
    teams: dict[str, int]  # name -> id
    join_codes: dict[int, str]
    bands: dict[str, int]
    tags: list[int]
    kiosk_team: int
    kiosk_token: str


@dataclass
class Scenario:
    organisation: Organisation
    ratings: list[Rating] = field(default_factory=list)
    ended_at: dt.datetime | None = None

    def older_than(self, moment: dt.datetime) -> Callable[[Rating], bool]:
        return lambda rating: rating.acknowledged_at < moment


def build_organisation(app: Flask) -> Organisation:
    session = app.extensions["pulse"].session_factory()
    try:
        medicine = structure.add_department(session, "Medicine")
        surgery = structure.add_department(session, "Surgery")
        teams = [
            structure.add_team(session, medicine, "Ward A", 20),
            structure.add_team(session, medicine, "Ward B", 20),
            structure.add_team(session, surgery, "Ward C", 20),
            structure.add_team(session, surgery, "Theatres", 20),
        ]
        bands = {
            "Early": structure.add_shift_band(session, "Early", dt.time(7, 0), dt.time(15, 0)),
            "Late": structure.add_shift_band(session, "Late", dt.time(14, 30), dt.time(22, 30)),
            "Night": structure.add_shift_band(session, "Night", dt.time(22, 0), dt.time(7, 30)),
        }
        tags = [structure.add_reason_tag(session, t) for t in ("Staffing levels", "Teamwork", "Workload")]
        session.flush()
        token = enable_kiosk(session, teams[2])
        session.commit()
        return Organisation(
            teams={t.name: t.id for t in teams},
            join_codes={t.id: t.join_code for t in teams},
            bands={name: b.id for name, b in bands.items()},
            tags=[t.id for t in tags],
            kiosk_team=teams[2].id,
            kiosk_token=token,
        )
    finally:
        session.close()


Watch = Callable[[], None] | None


def run_scenario(
    app: Flask,
    clock: FakeClock,
    maintenance: Maintenance,
    *,
    after_each: Watch = None,
    after_batch: Watch = None,
    seed: int = 17,
) -> Scenario:
    """Rate for DAYS days, each band in turn; every rating is acknowledged (201) or the scenario fails.

    `after_each` is called after each request that changed something (a rating, a tap, reasons added, the
    maintenance), `after_batch` after each band's ratings: an attacker's chances to look.
    """
    watch = after_each or (lambda: None)
    rng = random.Random(seed)
    organisation = build_organisation(app)
    scenario = Scenario(organisation)
    client = app.test_client()
    team_ids = list(organisation.teams.values())
    devices = {team: [secrets.token_urlsafe(32) for _ in range(6)] for team in team_ids}
    clock.set(dt.datetime.combine(FIRST_DAY, dt.time(12, 0), tzinfo=LONDON))
    maintenance.start(app, clock())  # the maintainer's first run opens the inbox
    maintenance.delta = measure_delta(app.extensions["pulse"])

    for day in (FIRST_DAY + dt.timedelta(days=n) for n in range(DAYS)):
        for band, (offset, at) in BAND_TIMES.items():
            clock.set(dt.datetime.combine(day + dt.timedelta(days=offset), at, tzinfo=LONDON))
            if maintenance.due(app, clock()):
                watch()
            rated: set[str] = set()
            for _ in range(rng.randint(2, 5)):
                clock.advance(minutes=rng.randint(2, 9))
                if maintenance.due(app, clock()):
                    watch()
                team = rng.choice(team_ids)
                colour = rng.choices(("red", "amber", "green"), weights=(2, 3, 5))[0]
                if team == organisation.kiosk_team and rng.random() < 0.5:
                    _tap(client, scenario, organisation, colour, clock, band, day)
                    watch()
                    continue
                device = rng.choice([d for d in devices[team] if d not in rated])
                rated.add(device)
                reasons = frozenset(rng.sample(organisation.tags, rng.randint(1, 2)))
                how = rng.random()
                sent = reasons if how < 0.3 else frozenset()
                added = reasons if 0.3 <= how < 0.5 else frozenset()
                _rate(
                    client, scenario, organisation, team, colour, device, sent, added, clock, band, day, watch
                )
            if after_batch is not None:
                after_batch()
    scenario.ended_at = clock()
    return scenario


def _rate(
    client: FlaskClient,
    scenario: Scenario,
    organisation: Organisation,
    team: int,
    colour: str,
    device: str,
    sent: frozenset[int],
    added: frozenset[int],
    clock: FakeClock,
    band: str,
    day: dt.date,
    watch: Callable[[], None],
) -> None:
    body = {
        "join_code": organisation.join_codes[team],
        "colour": colour,
        "device_secret": device,
        "idempotency_key": secrets.token_hex(16),
        "reasons": sorted(sent),
    }
    response = client.post("/api/v1/ratings", json=body)
    assert response.status_code == 201, response.get_json()
    _acknowledged(scenario, organisation, response.get_json(), team, colour, sent | added, clock, band, day)
    watch()
    if added:
        clock.advance(seconds=40)
        more = {key: body[key] for key in ("join_code", "device_secret", "idempotency_key")}
        response = client.post("/api/v1/ratings/reasons", json={**more, "reasons": sorted(added)})
        assert response.status_code == 200, response.get_json()
        watch()


def _tap(
    client: FlaskClient,
    scenario: Scenario,
    organisation: Organisation,
    colour: str,
    clock: FakeClock,
    band: str,
    day: dt.date,
) -> None:
    body = {
        "kiosk_token": organisation.kiosk_token,
        "colour": colour,
        "idempotency_key": secrets.token_hex(16),
    }
    response = client.post("/api/v1/kiosk-ratings", json=body)
    assert response.status_code == 201, response.get_json()
    team = organisation.kiosk_team
    _acknowledged(scenario, organisation, response.get_json(), team, colour, frozenset(), clock, band, day)


def _acknowledged(
    scenario: Scenario,
    organisation: Organisation,
    answer: dict,
    team: int,
    colour: str,
    reasons: frozenset[int],
    clock: FakeClock,
    band: str,
    day: dt.date,
) -> None:
    assert (answer["shift_date"], answer["shift_band"]) == (day.isoformat(), band)
    scenario.ratings.append(
        Rating(
            team=team,
            shift_date=day,
            band=organisation.bands[band],
            colour=colour,
            reasons=reasons,
            order=len(scenario.ratings),
            acknowledged_at=clock(),
        )
    )
