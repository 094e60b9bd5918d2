"""POST /api/v1/kiosk-ratings: a shared ward tablet counts each tap as one person, waits between taps, and
takes at most the team's headcount in a shift band (docs/anonymity.md A6)."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import func, select

from pulse.models import RatingKey, ShiftCounter
from pulse.services.rating.keys import purge_expired
from pulse.services.rating.kiosk import KioskNotAllowed
from tests.api.test_ratings import assert_problem, team_week, total_ratings
from tests.conftest import LONDON, FakeClock
from tests.factories import enable_kiosk, make_org, mix_for, rating_body

URL = "/api/v1/kiosk-ratings"
COOLDOWN = 10  # the default PULSE_KIOSK_COOLDOWN_SECONDS


def tap(token: str, colour: str = "green", **extra: object) -> dict[str, object]:
    return {"kiosk_token": token, "colour": colour, "idempotency_key": secrets.token_hex(16), **extra}


def test_each_tap_counts_as_one_person(client, session, clock: FakeClock) -> None:
    org = make_org(session, headcount=20)
    token = enable_kiosk(session, org.team)
    for colour in ("green", "red", "amber"):
        response = client.post(URL, json=tap(token, colour))
        assert response.status_code == 201, response.get_json()
        assert response.get_json() == {
            "status": "recorded",
            "shift_date": "2026-11-18",
            "shift_band": "Early",
            "next_tap_in": COOLDOWN,
        }
        clock.advance(seconds=COOLDOWN)
    assert team_week(session, org.team.id) == (1, 1, 1, 3)


def test_a_tap_during_the_cooldown_is_refused_with_retry_after(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    token = enable_kiosk(session, org.team)
    assert client.post(URL, json=tap(token)).status_code == 201
    clock.advance(seconds=COOLDOWN - 3)
    response = client.post(URL, json=tap(token))
    body = assert_problem(response, 409)
    assert body["type"] == "urn:pulse:problem:kiosk-cooldown"
    assert body["retry_after"] == 3 and response.headers["Retry-After"] == "3"
    assert total_ratings(session) == 1
    clock.advance(seconds=3)
    assert client.post(URL, json=tap(token)).status_code == 201
    assert total_ratings(session) == 2


def test_the_cap_is_the_headcount_per_shift_band(client, session, clock: FakeClock) -> None:
    org = make_org(session, headcount=3)
    token = enable_kiosk(session, org.team)
    for _ in range(3):
        assert client.post(URL, json=tap(token)).status_code == 201
        clock.advance(seconds=COOLDOWN)
    refused = client.post(URL, json=tap(token))
    body = assert_problem(refused, 409)
    assert body["type"] == "urn:pulse:problem:kiosk-cap-reached"
    assert "3 ratings for the Early shift" in body["detail"]
    assert team_week(session, org.team.id) == (0, 0, 3, 3)
    # The next band starts a new count: the Late, once the Early's grace period (to 17:00) is over.
    clock.set(dt.datetime(2026, 11, 18, 17, 30))
    response = client.post(URL, json=tap(token))
    assert response.status_code == 201 and response.get_json()["shift_band"] == "Late"


def test_a_retried_tap_counts_once_and_skips_the_cooldown(client, session) -> None:
    org = make_org(session)
    token = enable_kiosk(session, org.team)
    body = tap(token, "red")
    assert client.post(URL, json=body).status_code == 201
    again = client.post(URL, json=body)
    assert again.status_code == 201 and again.get_json()["shift_band"] == "Early"
    assert again.get_json()["next_tap_in"] == COOLDOWN
    assert team_week(session, org.team.id) == (1, 0, 0, 1)


def test_kiosk_taps_do_not_use_device_dedupe(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    token = enable_kiosk(session, org.team)
    phone = rating_body(org.team.join_code)
    assert client.post("/api/v1/ratings", json=phone).status_code == 201
    assert client.post(URL, json=tap(token)).status_code == 201
    assert team_week(session, org.team.id) == (0, 0, 2, 2)


def test_a_switched_off_or_replaced_kiosk_is_404(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    old = enable_kiosk(session, org.team)
    new = enable_kiosk(session, org.team)
    assert assert_problem(client.post(URL, json=tap(old)), 404, "kiosk_token")["type"].endswith(
        "unknown-kiosk"
    )
    assert client.post(URL, json=tap(new)).status_code == 201
    org.team.kiosk_token = None
    session.commit()
    clock.advance(seconds=COOLDOWN)
    assert_problem(client.post(URL, json=tap(new)), 404, "kiosk_token")
    assert total_ratings(session) == 1


def test_kiosk_needs_a_headcount(session) -> None:
    org = make_org(session, headcount=0)
    with pytest.raises(KioskNotAllowed, match="headcount"):
        enable_kiosk(session, org.team)


def test_the_kiosk_count_is_destroyed_with_the_shift_key(client, session, clock: FakeClock) -> None:
    org = make_org(session)
    token = enable_kiosk(session, org.team)
    assert client.post(URL, json=tap(token)).status_code == 201
    mix_for(session)
    assert session.scalar(select(func.count()).select_from(ShiftCounter)) == 1
    later = dt.datetime(2026, 11, 26, 12, 0, tzinfo=LONDON)
    purge_expired(session, later, LONDON, dt.timedelta(hours=2))
    session.commit()
    assert session.scalar(select(func.count()).select_from(ShiftCounter)) == 0
    assert session.scalar(select(func.count()).select_from(RatingKey)) == 0
    assert team_week(session, org.team.id) == (0, 0, 1, 1), "the tallies stay"


def test_malformed_kiosk_taps_are_422_naming_the_field(client, session) -> None:
    org = make_org(session)
    token = enable_kiosk(session, org.team)
    cases = {
        "kiosk_token": tap("short"),
        "colour": tap(token, "blue"),
        "idempotency_key": {**tap(token), "idempotency_key": "x"},
        "age_seconds": tap(token, age_seconds=-5),
    }
    for field, body in cases.items():
        assert_problem(client.post(URL, json=body), 422, field)
    assert total_ratings(session) == 0


def test_a_verified_organisation_has_no_shared_tablets(client, session) -> None:
    """A tablet cannot tell people apart, so once rating is verified a kiosk can neither be switched on nor
    take a tap, and both say why (docs/anonymity.md A8)."""
    from pulse.models import RatingMode
    from pulse.services.organisation import set_rating_mode

    org = make_org(session)
    token = enable_kiosk(session, org.team)
    set_rating_mode(session, RatingMode.VERIFIED)
    session.commit()
    refused = assert_problem(client.post(URL, json=tap(token)), 403)
    assert refused["type"] == "urn:pulse:problem:kiosk-not-verified"
    assert "own phone" in refused["detail"]
    with pytest.raises(KioskNotAllowed, match="verified"):
        enable_kiosk(session, org.teams[1])
    assert total_ratings(session) == 0
