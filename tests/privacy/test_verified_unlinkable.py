"""Verified rating: after tokens are issued and spent, nothing links a spending to a person, an enrolment or
an issuance record (issue 16; docs/anonymity.md A7, A8 and A10 to A12).

The scenario: two teams' staff enrol their phones and fetch their week's tokens on Monday morning, as the
rating page does; on Wednesday they rate, in an order of their own. The attacker reads every row of every
table after each step (level A: system columns and physical order included), and is given, beyond the
database, what a server's logs could hold of issuance (who sent which blinded elements, and the answers)
and of spending (every rating's body, but not who sent it), and PULSE_SECRET_KEY. The attacks then try to
tie each spending to its person:

- by content: anything a person's rows or issuance requests hold, as it is or through every hash and every
  keyed digest the server makes with every key it holds, against everything a spending left;
- by issuance record: attributing the issuance rows to people (possible with PULSE_SECRET_KEY, not without)
  and then matching them to spendings;
- by time: the transaction (xmin) that wrote a spending's rows against those that wrote a person's rows.

Each attack is shown to work where it should: given what only the phone knows (its nonces), the same
matching finds every spending; given the pepper, it attributes every issuance record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from pulse.services.accounts import roster
from pulse.services.rating.sealing import derive_pepper
from pulse.services.tokens import decode_base64url, encode_base64url
from pulse.services.tokens.keys import derive_token_pepper, pepper_seed
from tests.conftest import LONDON, open_inbox
from tests.factories import make_org
from tests.factories_roster import put_on_team, staff, verified
from tests.phone import Phone, slot_id
from tests.privacy import attacks
from tests.privacy.conftest import BACKENDS, POSTGRES_ONLY, Target

MONDAY_MORNING = dt.datetime(2026, 11, 16, 8, 0, tzinfo=LONDON)
WEDNESDAY = dt.date(2026, 11, 18)
WEEK = dt.date(2026, 11, 16)
SPENDING_TABLES = ("shift_receipt", "request_receipt", "inbox_item", "contributor_receipt")
PERSON_TABLES = ("staff_member", "enrolled_device", "enrolment_code", "roster_entry", "token_issuance")
# Every prefix the server puts before a value it digests (tokens.spending, tokens.issuance, rating.keys).
PREFIXES = (b"", b"token|", b"token-week|", b"token-day|", b"token-orgweek|", b"holder|", b"seal|")


@dataclass
class Person:
    identifier: str
    person_id: int
    teams: list[int]
    phone: Phone
    blinded: list[bytes] = field(default_factory=list)  # sent at issuance (a log would hold them)
    evaluations: list[bytes] = field(default_factory=list)  # answered at issuance


@dataclass
class Spending:
    """What one rating left: its request as a log would hold it (no sender), and whose it truly was."""

    body: dict[str, Any]
    person: str
    nonces: list[bytes]  # the phone's own nonces (only the positive controls use them)


@dataclass
class World:
    app: Flask
    people: list[Person]
    spendings: list[Spending]
    looks: list[attacks.Rows]  # every row of every table, after each step
    secret_key: str


def build_world(target: Target) -> World:
    app = target.app
    open_inbox(app)
    session = app.extensions["pulse"].session_factory()
    org = make_org(session)
    first = put_on_team(session, org.teams[0], *staff(6))
    second = put_on_team(session, org.teams[1], *staff(6, start=7))
    put_on_team(session, org.teams[1], first[0].identifier)  # one person works on both teams
    verified(session)
    looks: list[attacks.Rows] = []
    catalogue = target.catalogue

    def look() -> None:
        looks.append(attacks.select_everything(target.engine, catalogue))

    target.clock.set(MONDAY_MORNING)
    client = app.test_client()
    people = []
    for member in [*first, *second]:
        code = roster.issue_code(session, None, member, now=MONDAY_MORNING, valid_for=dt.timedelta(days=14))
        session.commit()
        enrolled = client.post("/api/v1/enrolments", json={"code": code.code})
        assert enrolled.status_code == 201
        teams = [team["id"] for team in enrolled.get_json()["teams"]]
        person = Person(member.identifier, member.id, teams, Phone(client, enrolled.get_json()["credential"]))
        for team_id in teams:
            answer = person.phone.fetch_week(team_id, WEEK)
            person.evaluations += [decode_base64url(i["evaluation"]) for i in answer["issued"]]
        person.blinded = [b.blinded for b in person.phone.pending.values()]
        people.append(person)
        look()
    session.close()

    target.clock.set(dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON))
    early = org.bands["Early"].id
    order = [(p, team) for p in people for team in p.teams]
    chance = random.Random(16)
    chance.shuffle(order)
    spendings = []
    for person, team_id in order:
        join_code = next(t.join_code for t in org.teams if t.id == team_id)
        body = person.phone.rating_body(
            join_code, team_id, WEDNESDAY, early, colour=chance.choice(["red", "green"])
        )
        assert client.post("/api/v1/ratings", json=body).status_code == 201
        nonces = [person.phone.tokens[slot_id(team_id, WEDNESDAY, early)].nonce]
        nonces += [h.nonce for tid, h in person.phone.tokens.items() if tid[0] != "slot"]
        spendings.append(Spending(body, person.identifier, nonces))
        look()
    target.maintenance.run(app.extensions["pulse"], target.clock())
    look()
    return World(app, people, spendings, looks, app.extensions["pulse"].settings.secret_key)


@pytest.fixture
def world(target: Target) -> World:
    return build_world(target)


# -- What each side holds --


def forms(value: Any) -> Iterator[bytes]:
    """A value as bytes, in every spelling the server might use."""
    if value is None:
        return
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        yield value
        yield value.hex().encode()
        yield encode_base64url(value).encode()
    else:
        yield str(value).encode()


def person_side(world: World, person: Person, rows: attacks.Rows) -> set[bytes]:
    """Everything that is about this person: their rows, and their issuance requests and answers."""
    values: set[bytes] = set()
    values.update(forms(person.person_id))
    values.update(forms(person.identifier))
    for device in rows.get("enrolled_device", []):
        if device["staff_member_id"] == person.person_id:
            values.update(forms(device["id"]))
            values.update(forms(device["credential_hash"]))
    for sent in [*person.blinded, *person.evaluations]:
        values.update(forms(sent))
        values.update(forms(hashlib.sha256(sent).digest()))
    return {v for v in values if len(v) >= 4}


def stored_spending(rows: attacks.Rows) -> set[bytes]:
    """Everything the spendings left in the database (all of them: a match with any is a link)."""
    values: set[bytes] = set()
    for name in SPENDING_TABLES:
        for row in rows.get(name, []):
            for column, value in row.items():
                if column not in attacks.PSEUDO and column != "key_id":
                    values.update(forms(value))
    return {v for v in values if len(v) >= 8}


def logged_spending(spending: Spending) -> set[bytes]:
    """Everything in one rating's request, as a log would keep it (without its sender)."""
    values: set[bytes] = set()
    for part in ("token", "week_pseudonym", "day_pseudonym", "orgweek_pseudonym"):
        values.update(forms(spending.body[part]["nonce"]))
        values.update(forms(spending.body[part]["authenticator"]))
    values.update(forms(spending.body["idempotency_key"]))
    return values


def keys_held(world: World, rows: attacks.Rows) -> list[bytes]:
    """Every key the attacker can make: the stored ones as they are and peppered with PULSE_SECRET_KEY."""
    receipts, tokens = derive_pepper(world.secret_key), derive_token_pepper(world.secret_key)
    keys = [receipts, tokens]
    for row in rows.get("rating_key", []):
        keys += [bytes(row["secret"]), hmac.digest(receipts, bytes(row["secret"]), "sha256")]
    for row in rows.get("token_seed", []):
        keys += [bytes(row["secret"]), pepper_seed(tokens, bytes(row["secret"]))]
    return keys


def derived(values: Iterable[bytes], keys: list[bytes]) -> set[bytes]:
    """Each value, its SHA-256, and its HMAC-SHA256 under every key after every prefix the server uses."""
    out = set()
    for value in values:
        out.add(value)
        out.add(hashlib.sha256(value).digest())
        for key in keys:
            for prefix in PREFIXES:
                out.add(hmac.digest(key, prefix + value, "sha256"))
    return out


def contains(person_values: set[bytes], stored: set[bytes]) -> bool:
    """Whether a stored value holds one of the person's values inside it, in the clear (in a blob, say)."""
    long = [value for value in stored if len(value) > 32]
    return any(p in value for p in person_values if len(p) >= 16 for value in long)


# -- The attacks --


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_no_spending_can_be_matched_to_a_person_by_content(world: World) -> None:
    # On the last look before the mix (the receipts still there) and the last of all (contributor digests).
    for rows in (world.looks[-2], world.looks[-1]):
        keys = keys_held(world, rows)
        stored = stored_spending(rows)
        logged = [logged_spending(spending) for spending in world.spendings]
        for person in world.people:
            raw = person_side(world, person, rows)
            mine = derived(raw, keys)
            assert not mine & stored and not contains(raw, stored), f"{person.identifier} in storage"
            matched = [
                spending.person for spending, body in zip(world.spendings, logged, strict=True) if mine & body
            ]
            assert matched == [], f"{person.identifier}'s issuance matches the ratings of {matched}"

    # The control: with the nonces that only the phone holds, the same matching finds every spending's
    # receipts under the keys the attacker holds.
    rows = world.looks[-2]
    keys = keys_held(world, rows)
    stored = {bytes(r["digest"]) for r in rows["shift_receipt"]}
    for spending in world.spendings:
        assert derived(spending.nonces, keys) & stored, "the matching would find a phone's own spending"


def attribute(world: World, rows: attacks.Rows, keys: list[bytes | None]) -> dict[bytes, str]:
    """Issuance records attributed to people: every person, every token of the week (their infos are
    public: the published keys), in the server's own format, under each key (None: a plain SHA-256)."""
    infos = [_slot(tid).info for tid in {tid for p in world.people for tid in p.phone.keys}]
    holders = {bytes(r["holder"]) for r in rows["token_issuance"]}
    found = {}
    for person in world.people:
        for info in infos:
            message = b"holder|" + str(person.person_id).encode() + b"|" + info
            for key in keys:
                guess = (
                    hashlib.sha256(message).digest() if key is None else hmac.digest(key, message, "sha256")
                )
                if guess in holders:
                    found[guess] = person.identifier
    return found


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_issuance_records_name_nobody_without_the_secret_key(world: World) -> None:
    """With every key the database holds, no issuance record can be attributed to anyone; with
    PULSE_SECRET_KEY they all can (the control). Spendings share nothing with them."""
    rows = world.looks[-2]
    holders = {bytes(r["holder"]) for r in rows["token_issuance"]}
    assert len(holders) == sum(len(p.phone.tokens) for p in world.people)
    stored_only: list[bytes | None] = [None]
    stored_only += [bytes(r["secret"]) for name in ("rating_key", "token_seed") for r in rows.get(name, [])]
    assert attribute(world, rows, stored_only) == {}
    for person in world.people:
        assert not derived(person_side(world, person, rows), [k for k in stored_only if k]) & holders

    assert len(attribute(world, rows, [derive_token_pepper(world.secret_key)])) == len(holders)
    assert not stored_spending(rows) & holders
    for spending in world.spendings:
        assert not logged_spending(spending) & holders


# Only on PostgreSQL: SQLite has no such clock (each table's rowids count on their own), and a skip in the
# PostgreSQL run fails CI.
@pytest.mark.parametrize("database", POSTGRES_ONLY, indirect=True)
def test_no_transaction_both_issues_and_spends(world: World) -> None:
    """On PostgreSQL a row's xmin names the transaction that wrote it. No spending's rows share one with a
    person's rows (an enrolment, an issuance record), and every spending came after every issuance: with the
    week fetched ahead, the order says nothing about whose spending is whose."""
    rows = world.looks[-2]
    assert all(attacks.XMIN in r for r in rows["shift_receipt"])
    person_xmins = {r[attacks.XMIN] for name in PERSON_TABLES for r in rows.get(name, [])}
    spending_xmins = {r[attacks.XMIN] for name in SPENDING_TABLES for r in rows.get(name, [])}
    assert spending_xmins and not person_xmins & spending_xmins
    # The nearest person-named write before each spending is the same for all: the last phone to fetch.
    nearest = {max(x for x in person_xmins if x < s) for s in spending_xmins}
    assert len(nearest) == 1


def _slot(token_id: tuple[Any, ...]) -> Any:
    from pulse.services.tokens.keys import TokenSlot

    kind, *fields = token_id
    if kind == "slot":
        return TokenSlot.slot(fields[0], dt.date.fromisoformat(fields[1]), fields[2])
    if kind == "week":
        return TokenSlot.team_week(fields[0], dt.date.fromisoformat(fields[1]))
    if kind == "day":
        return TokenSlot.day(dt.date.fromisoformat(fields[0]))
    return TokenSlot.org_week(dt.date.fromisoformat(fields[0]))
