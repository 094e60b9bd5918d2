"""The rating endpoints' rate limit: counted under a daily keyed digest, never the address; off when the
setting says so; per client behind as many proxies as configured; documented in the OpenAPI."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re

import pytest

from pulse.api import rate_limits
from pulse.api.rate_limits import rating_limit_key
from pulse.config import ConfigError, Settings
from tests.conftest import FakeClock
from tests.factories import make_org, rating_body

RATINGS = "/api/v1/ratings"
ADDRESS = "203.0.113.7"


def key_for(app, address: str) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context(RATINGS, method="POST", environ_base={"REMOTE_ADDR": address}):
        return rating_limit_key()


def address_forms(address: str) -> list[str]:
    """The ways an address could show up in a key: as written, as hex, as its digits."""
    packed = ipaddress.ip_address(address).packed
    return [address, packed.hex(), str(int.from_bytes(packed, "big")), address.replace(".", "")]


def test_the_key_is_a_daily_keyed_digest_never_the_address(app, clock: FakeClock) -> None:
    key = key_for(app, ADDRESS)

    assert re.fullmatch(r"[0-9a-f]{32}", key)
    for form in address_forms(ADDRESS):
        assert form not in key
    secret = app.config["SECRET_KEY"].encode()
    message = f"rating-limit|{clock().astimezone(dt.UTC).date().isoformat()}|{ADDRESS}".encode()
    assert key == hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]  # as the docs promise
    assert key_for(app, ADDRESS) == key, "the same in every request (and worker) that day"
    assert key_for(app, "203.0.113.8") != key
    clock.advance(days=1)
    assert key_for(app, ADDRESS) != key, "a new key every day"


def test_a_day_is_the_utc_date(app, clock: FakeClock) -> None:
    clock.set(dt.datetime(2026, 6, 1, 0, 30))  # London summer time: 23:30 UTC on 31 May
    late_may = key_for(app, ADDRESS)
    clock.set(dt.datetime(2026, 6, 1, 0, 59))
    assert key_for(app, ADDRESS) == late_may
    clock.set(dt.datetime(2026, 6, 1, 1, 0))  # midnight UTC
    assert key_for(app, ADDRESS) != late_may


def test_the_key_depends_on_the_secret_key(make_app) -> None:
    one = key_for(make_app(secret_key="a" * 40), ADDRESS)
    other = key_for(make_app(secret_key="b" * 40), ADDRESS)
    assert one != other


def test_the_counters_hold_digests_not_addresses(make_app) -> None:
    app = make_app(rating_rate_limit="3/hour")
    client = app.test_client()
    for _ in range(4):
        client.post(RATINGS, json=rating_body("NoSuchTeam12345"), environ_base={"REMOTE_ADDR": ADDRESS})
    names = rate_limits.local_windows(app).names()  # memory:// storage: counted in this process
    assert names, "the flood was counted"
    assert any(key_for(app, ADDRESS) in name for name in names)
    for form in address_forms(ADDRESS):
        assert not any(form in name for name in names), names


@pytest.mark.parametrize("setting", ["", "off", "OFF"])
def test_with_the_setting_off_no_limit_applies_and_the_limiter_never_runs(
    make_app, session, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    def must_not_run(_setting: str) -> None:
        raise AssertionError("the rate limiter ran although it is switched off")

    monkeypatch.setattr(rate_limits, "_count", must_not_run)
    monkeypatch.setattr(rate_limits, "rating_limit_key", must_not_run)
    app = make_app(rating_rate_limit=setting)
    client = app.test_client()
    org = make_org(session, headcount=50)  # room for 30 ratings in one shift
    for _ in range(30):
        response = client.post(RATINGS, json=rating_body(org.team.join_code))
        assert response.status_code == 201
        assert "Retry-After" not in response.headers


def test_the_same_requests_are_limited_with_the_setting_on(make_app, session) -> None:
    """The counterpart of the test above: it proves the 30 requests there would have been stopped."""
    client = make_app(rating_rate_limit="29/hour").test_client()
    org = make_org(session, headcount=50)  # room for 30 ratings in one shift
    statuses = [client.post(RATINGS, json=rating_body(org.team.join_code)).status_code for _ in range(30)]
    assert statuses == [201] * 29 + [429]


def test_the_limit_is_on_by_default_and_generous() -> None:
    settings = Settings.from_env({})
    assert settings.rating_limit == "1200/minute"
    assert Settings.from_env({"PULSE_RATING_RATE_LIMIT": ""}).rating_limit == "1200/minute"  # empty: default
    assert Settings.from_env({"PULSE_RATING_RATE_LIMIT": "off"}).rating_limit == ""
    assert Settings.from_env({"PULSE_RATING_RATE_LIMIT": "100/second; 5000/hour"}).rating_limit


@pytest.mark.parametrize("value", ["lots", "0/minute", "-5/minute", "1200/fortnight", "1200"])
def test_a_malformed_limit_is_refused_at_start(value: str) -> None:
    with pytest.raises(ConfigError, match="PULSE_RATING_RATE_LIMIT"):
        Settings.from_env({"PULSE_RATING_RATE_LIMIT": value})


@pytest.mark.parametrize("hops", ["-1", "11"])
def test_proxy_hops_must_be_sensible(hops: str) -> None:
    with pytest.raises(ConfigError, match="PULSE_PROXY_HOPS"):
        Settings.from_env({"PULSE_PROXY_HOPS": hops})


def _two_clients_behind_one_proxy(app, org) -> list[int]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    return [
        client.post(
            RATINGS,
            json=rating_body(org.team.join_code),
            environ_base=proxy,
            headers={"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"},
        ).status_code
        for forwarded in ("198.51.100.1", "198.51.100.2")
    ]


def test_behind_a_proxy_each_client_is_counted(make_app, session) -> None:
    app = make_app(rating_rate_limit="1/hour", proxy_hops=1)
    assert _two_clients_behind_one_proxy(app, make_org(session)) == [201, 201]


def test_without_proxy_hops_forwarded_addresses_are_not_trusted(make_app, session) -> None:
    app = make_app(rating_rate_limit="1/hour")
    assert _two_clients_behind_one_proxy(app, make_org(session)) == [201, 429]


def test_proxy_hops_trust_the_forwarded_scheme(make_app) -> None:
    app = make_app(proxy_hops=1)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers
    direct = make_app().test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in direct.headers


@pytest.mark.parametrize("path", ["/api/v1/ratings", "/api/v1/ratings/reasons", "/api/v1/kiosk-ratings"])
def test_the_429_is_documented(client, path: str) -> None:
    spec = client.get("/api/openapi.json").get_json()
    answer = spec["paths"][path]["post"]["responses"]["429"]
    assert "application/problem+json" in answer["content"]
    assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_local_windows_count_per_key_and_start_afresh_each_window() -> None:
    from limits import parse

    now = [1_200_000.0 + 30]  # 30 s into a minute (1,200,000 s is a whole number of minutes)
    windows = rate_limits.LocalWindows(clock=lambda: now[0])
    rate = parse("2/minute")
    assert windows.hit(rate, "a") is None and windows.hit(rate, "a") is None
    assert windows.hit(rate, "a") == 30, "the third in the minute waits for the window's end"
    assert windows.hit(rate, "b") is None, "another client has its own count"
    now[0] += 30  # the next minute
    assert windows.hit(rate, "a") is None
    assert windows.names() == ["a"], "the last window's counters are gone"


def test_with_redis_storage_the_flood_is_counted_there(make_app, session) -> None:
    """PULSE_RATELIMIT_STORAGE_URL=redis://...: the workers' counts add up in Redis (the machine's own)."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    store = redis.Redis.from_url(url)
    store.flushdb()
    try:
        app = make_app(rating_rate_limit="3/hour", ratelimit_storage_url=url)
        client = app.test_client()
        answers = [
            client.post(RATINGS, json=rating_body("NoSuchTeam12345"), environ_base={"REMOTE_ADDR": ADDRESS})
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 429]
        names = [name.decode() for name in store.keys("*")]
        assert any(key_for(app, ADDRESS) in name for name in names), names
        for form in address_forms(ADDRESS):
            assert not any(form in name for name in names), names
    finally:
        store.flushdb()
