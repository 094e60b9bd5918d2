"""Schemathesis fuzzes every operation of the OpenAPI document through the WSGI app.

Thousands of generated requests, valid and invalid, none of which may get a 5xx or an answer the document does
not describe: an undocumented status, another content type, a missing documented header, or a body that does
not match its schema. Half of the valid requests carry real join codes, kiosk tokens, reason tags, unit ids,
week ranges and earlier ratings' keys, so they get past 404 and 422 into the rating and figures code.
"""

from __future__ import annotations

import collections
import datetime as dt
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FakeClock
from tests.factories import Org, add_week, enable_kiosk, make_org

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,  # invalid input is refused with a 4xx, never accepted
]
MIN_REQUESTS = 2000
# Examples per operation: the rating endpoints get most, as they take untrusted input from every phone.
EXAMPLES = {
    ("POST", GenerationMode.POSITIVE): 180,
    ("POST", GenerationMode.NEGATIVE): 90,
    ("GET", GenerationMode.POSITIVE): 110,
    ("GET", GenerationMode.NEGATIVE): 55,
}
WEEK = dt.date(2026, 11, 9)  # closed by the test clock's Wednesday 18 November
EARLIER = WEEK - dt.timedelta(weeks=1)
TOKEN_FIELDS = ("token", "week_pseudonym", "day_pseudonym", "orgweek_pseudonym")
RATING_OPERATIONS = ("POST /api/v1/ratings", "POST /api/v1/ratings/reasons", "POST /api/v1/kiosk-ratings")


@dataclass
class World:
    """What exists in the database, for requests that should find it."""

    org: Org
    kiosk_token: str
    clock: FakeClock
    ratings: list[tuple[str, str, str]] = field(default_factory=list)  # join code, secret, key of each 201

    @property
    def join_codes(self) -> list[str]:
        return [team.join_code for team in self.org.teams]

    @property
    def tag_ids(self) -> list[int]:
        return [tag.id for tag in self.org.tags]


def make_real(case: Any, data: st.DataObject, world: World) -> None:
    """Replace generated identifiers with real ones, each half the time (valid cases only)."""

    def sometimes() -> bool:
        return data.draw(st.booleans())

    body = case.body if isinstance(case.body, dict) else None
    if body is not None:
        if "join_code" in body and sometimes():
            body["join_code"] = data.draw(st.sampled_from(world.join_codes))
        if "kiosk_token" in body and sometimes():
            body["kiosk_token"] = world.kiosk_token
            world.clock.advance(seconds=data.draw(st.sampled_from([0, 11])))  # past the cooldown, or not
        if "reasons" in body and sometimes():
            body["reasons"] = data.draw(st.lists(st.sampled_from(world.tag_ids), min_size=1, unique=True))
        rating_body = "idempotency_key" in body and "join_code" in body and "kiosk_token" not in body
        if rating_body and sometimes():  # this organisation rates open: a device secret, never tokens
            for name in TOKEN_FIELDS:
                body.pop(name, None)
            if not body.get("device_secret"):
                body["device_secret"] = f"fuzz-device-{data.draw(st.integers(0, 10**12)):013d}"
        if rating_body and "colour" not in body and world.ratings and sometimes():
            rating = data.draw(st.sampled_from(world.ratings))
            body["join_code"], body["device_secret"], body["idempotency_key"] = rating
            body.pop("token", None)
    path = case.path_parameters or {}
    for name in ("department_id", "team_id", "unit_id"):
        if name in path and sometimes():
            by_department = name == "department_id" or path.get("kind") == "departments"
            path[name] = world.org.department.id if by_department else world.org.teams[0].id
    query = case.query if isinstance(case.query, dict) else None
    if query is not None:
        if "department_id" in query and sometimes():
            query["department_id"] = world.org.department.id
        if ("from" in query or "to" in query) and sometimes():
            query.update({"from": EARLIER.isoformat(), "to": (WEEK + dt.timedelta(days=6)).isoformat()})


def remember(case: Any, response: Any, world: World) -> None:
    if case.operation.label == "POST /api/v1/ratings" and response.status_code == 201:
        body = case.body
        world.ratings.append((body["join_code"], body["device_secret"], body["idempotency_key"]))


def has_inputs(operation: Any) -> bool:
    """Whether there is anything to make invalid (an operation without parameters has no negative cases)."""
    return bool(len(operation.body) or any(True for _ in operation.iter_parameters()))


@dataclass
class Tally:
    """What was sent, what came back, and what broke the contract."""

    sent: collections.Counter[str] = field(default_factory=collections.Counter)
    statuses: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    failures: dict[str, str] = field(default_factory=dict)
    seconds: collections.Counter[str] = field(default_factory=collections.Counter)


def fuzz(operation: Any, mode: GenerationMode, world: World, tally: Tally) -> None:
    """Send `operation` its share of generated requests and check every answer against the document."""
    label = operation.label

    @settings(
        max_examples=EXAMPLES[(operation.method.upper(), mode)],
        derandomize=True,  # the same requests on every run and machine
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: the database keeps what ran
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def send(case: Any, data: st.DataObject) -> None:
        if mode is GenerationMode.POSITIVE:
            make_real(case, data, world)
        tally.sent[label] += 1
        try:
            response = case.call()
        except Exception:  # the app raised (TESTING propagates it): as bad as a 500
            tally.failures.setdefault(f"{label}: exception", traceback.format_exc(limit=-8))
            return
        tally.statuses[label][response.status_code] += 1
        remember(case, response, world)
        # A body over the size limit is refused (413) before its content is read: a rejection too, which
        # schemathesis' list of rejecting statuses leaves out.
        checks = [c for c in CHECKS if c is not negative_data_rejection or response.status_code != 413]
        try:
            case.validate_response(response, checks=checks)
        except Exception as failure:
            tally.failures.setdefault(f"{label}: {type(failure).__name__}", str(failure)[:3000])

    started = time.perf_counter()
    send()
    tally.seconds[label] += time.perf_counter() - started


def test_every_operation_answers_as_documented(app, session, clock: FakeClock) -> None:
    org = make_org(session, teams=3)
    add_week(session, org, EARLIER, {0: (1, 1, 1, 3), 1: (2, 4, 8, 14), 2: (0, 0, 0, 0)})
    add_week(session, org, WEEK, {0: (2, 3, 5, 10), 1: (1, 5, 9, 15), 2: (1, 2, 6, 9)})
    world = World(org, enable_kiosk(session, org.teams[1]), clock)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    tally = Tally()

    started = time.perf_counter()
    for operation in operations:
        fuzz(operation, GenerationMode.POSITIVE, world, tally)
        if has_inputs(operation):
            fuzz(operation, GenerationMode.NEGATIVE, world, tally)
    elapsed = time.perf_counter() - started

    sent, statuses = tally.sent, tally.statuses
    summary = "\n".join(
        f"{sent[label]:5d} {tally.seconds[label]:5.1f} s  {label}  {sorted(statuses[label].items())}"
        for label in (op.label for op in operations)
    )
    print(f"\n{sum(sent.values())} requests in {elapsed:.1f} s\n{summary}")

    assert not tally.failures, "\n\n".join(f"== {name}\n{detail}" for name, detail in tally.failures.items())
    assert sum(sent.values()) >= MIN_REQUESTS, summary
    assert all(sent[op.label] > 0 for op in operations), summary
    assert len(operations) >= 19, "every documented operation is fuzzed"
    for label in RATING_OPERATIONS:  # real identifiers reached the rating code, not only its 404
        assert any(200 <= status < 300 for status in statuses[label]), summary
