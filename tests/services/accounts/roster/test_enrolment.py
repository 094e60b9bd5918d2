"""Enrolment codes (issue, list, revoke, redeem once even under races) and device credentials."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from pulse.models import AuditEvent, EnrolledDevice, EnrolmentCode
from pulse.services.accounts import roster
from pulse.services.accounts.roster.codes import ALPHABET, read_code
from pulse.services.errors import InvalidInput
from tests.factories import make_org
from tests.factories_roster import FORTNIGHT, NOW, TODAY, enrol, issue, put_on_team

# Opens many database connections at once: never beside another such test (pyproject's --dist loadgroup).
pytestmark = pytest.mark.xdist_group("many-connections")

CODE = re.compile(rf"^[{ALPHABET}]{{4}}(-[{ALPHABET}]{{4}}){{3}}$")


def test_a_code_is_16_crockford_symbols_grouped_and_only_its_hash_is_kept(session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    issued = roster.issue_code(session, None, person, now=NOW, valid_for=FORTNIGHT)
    session.commit()
    assert CODE.match(issued.code), issued.code
    assert issued.expires_at == NOW + FORTNIGHT
    stored = session.scalars(select(EnrolmentCode)).one()
    assert stored.code_hash == hashlib.sha256(issued.code.replace("-", "").encode()).hexdigest()
    dumped = " ".join(str(v) for row in session.execute(text("SELECT * FROM enrolment_code")) for v in row)
    audit = " ".join(f"{e.target} {e.detail}" for e in session.scalars(select(AuditEvent)))
    for where in (dumped, audit):
        assert issued.code not in where and issued.code.replace("-", "") not in where
    assert roster.list_codes(session, person, NOW) == [
        roster.CodeSummary(stored.id, TODAY, NOW + FORTNIGHT, roster.CodeStatus.LIVE)
    ]


def test_codes_differ_and_are_read_forgivingly() -> None:
    from pulse.services.accounts.roster.codes import new_code

    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    symbols = "7K3MQ9TX2HDA8WPE"
    for typed in ("7K3M-Q9TX-2HDA-8WPE", "7k3m q9tx 2hda 8wpe", " 7K3MQ9TX2HDA8WPE "):
        assert read_code(typed) == symbols
    assert read_code("1IL0-O000-0000-0000") == "1110000000000000"
    for bad in ("7K3M-Q9TX-2HDA", "7K3M-Q9TX-2HDA-8WPEX", "7K3M-Q9TX-2HDA-8WPU", "", "7K3M_Q9TX_2HDA_8WPE"):
        assert read_code(bad) is None


def test_redeeming_a_code_enrols_one_device_once(session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    put_on_team(session, org.teams[1], "a@example.nhs.uk")
    code = issue(session, person)
    enrolment = roster.redeem_code(session, code.lower().replace("-", " "), now=NOW)
    session.commit()
    assert enrolment.staff_member_id == person.id and enrolment.identifier == "a@example.nhs.uk"
    assert [t.name for t in enrolment.teams] == ["Team 1", "Team 2"]
    assert len(enrolment.credential) >= 43  # 256 bits, URL-safe
    device = session.scalars(select(EnrolledDevice)).one()
    assert device.enrolled_on == TODAY and not device.revoked
    assert device.credential_hash == hashlib.sha256(enrolment.credential.encode()).hexdigest()
    assert roster.authenticate_device(session, enrolment.credential) == roster.DeviceAccess(
        person.id, (org.teams[0].id, org.teams[1].id)
    )
    assert roster.list_codes(session, person, NOW)[0].status == roster.CodeStatus.USED

    with pytest.raises(roster.EnrolmentRefused) as refused:
        roster.redeem_code(session, code, now=NOW)
    assert (refused.value.status, refused.value.kind, refused.value.field) == (
        409,
        "enrolment-code-used",
        "code",
    )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EnrolledDevice)) == 1


@pytest.mark.parametrize(
    ("spoil", "status", "kind"),
    [
        ("expire", 410, "enrolment-code-expired"),
        ("revoke", 410, "enrolment-code-revoked"),
        ("reissue", 410, "enrolment-code-revoked"),  # a new code replaces the person's earlier one
        ("unknown", 404, "unknown-enrolment-code"),
        ("garbled", 422, "invalid-enrolment-code"),
        ("deactivate", 403, "staff-member-inactive"),
        ("off roster", 403, "not-on-roster"),
        ("team closed", 403, "not-on-roster"),
    ],
)
def test_a_code_that_cannot_be_used_is_refused_and_left_as_it_was(
    session: Session, spoil: str, status: int, kind: str
) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    code = issue(session, person)
    now = NOW
    if spoil == "expire":
        now = NOW + FORTNIGHT
    elif spoil == "revoke":
        stored = session.scalars(select(EnrolmentCode)).one()
        assert roster.revoke_code(session, None, stored)
        assert not roster.revoke_code(session, None, stored)
    elif spoil == "reissue":
        issue(session, person)
    elif spoil == "unknown":
        code = "0000-0000-0000-0000"
    elif spoil == "garbled":
        code = "not a code"
    elif spoil == "deactivate":
        roster.set_person_active(session, None, person, False)
    elif spoil == "off roster":
        roster.remove_from_team(session, None, person, org.team)
    elif spoil == "team closed":
        org.team.active = False
    session.commit()
    with pytest.raises(roster.EnrolmentRefused) as refused:
        roster.redeem_code(session, code, now=now)
    assert (refused.value.status, refused.value.kind, refused.value.field) == (status, kind, "code")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EnrolledDevice)) == 0
    if spoil in ("deactivate", "off roster", "team closed"):  # still usable once the person may enrol
        assert roster.list_codes(session, person, now)[0].status == roster.CodeStatus.LIVE


def test_issuing_refuses_people_who_cannot_enrol(session: Session) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    roster.remove_from_team(session, None, person, org.team)
    with pytest.raises(InvalidInput, match="on no active team's roster"):
        roster.issue_code(session, None, person, now=NOW, valid_for=FORTNIGHT)
    put_on_team(session, org.team, "a@example.nhs.uk")
    roster.set_person_active(session, None, person, False)
    with pytest.raises(InvalidInput, match="deactivated"):
        roster.issue_code(session, None, person, now=NOW, valid_for=FORTNIGHT)


def test_team_codes_go_to_people_not_yet_enrolled_unless_asked(session: Session) -> None:
    org = make_org(session)
    people = put_on_team(session, org.team, "a@example.nhs.uk", "b@example.nhs.uk", "c@example.nhs.uk")
    roster.set_person_active(session, None, people[2], False)
    enrol(session, people[0])
    issued = roster.issue_team_codes(session, None, org.team, now=NOW, valid_for=FORTNIGHT)
    assert [i.identifier for i in issued] == ["b@example.nhs.uk"]
    everyone = roster.issue_team_codes(
        session, None, org.team, now=NOW, valid_for=FORTNIGHT, include_enrolled=True
    )
    assert [i.identifier for i in everyone] == ["a@example.nhs.uk", "b@example.nhs.uk"]
    assert len({i.code for i in everyone}) == 2
    statuses = roster.latest_code_statuses(session, people, NOW)
    assert statuses == {people[0].id: roster.CodeStatus.LIVE, people[1].id: roster.CodeStatus.LIVE}
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "enrolment_code.issue_team"
    assert event.detail["people"] == ["a@example.nhs.uk", "b@example.nhs.uk"]


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ("nothing", None),
        ("unknown", roster.Refusal.UNKNOWN),
        ("revoke", roster.Refusal.REVOKED),
        ("revoke all", roster.Refusal.REVOKED),
        ("deactivate", roster.Refusal.PERSON_INACTIVE),
        ("off every roster", roster.Refusal.NO_ROSTER),
        ("teams closed", roster.Refusal.NO_ROSTER),
    ],
)
def test_authenticating_a_device(session: Session, spoil: str, reason: roster.Refusal | None) -> None:
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    put_on_team(session, org.teams[1], "a@example.nhs.uk")
    credential = enrol(session, person)
    other = enrol(session, person)  # a second phone
    if spoil == "unknown":
        credential = credential[:-2] + ("AA" if not credential.endswith("AA") else "BB")
    elif spoil == "revoke":
        device = roster.list_devices(session, person)[-1]  # the first phone
        assert roster.revoke_device(session, None, device)
        assert not roster.revoke_device(session, None, device)
    elif spoil == "revoke all":
        assert roster.revoke_devices(session, None, person) == 2
        assert roster.revoke_devices(session, None, person) == 0
    elif spoil == "deactivate":
        roster.set_person_active(session, None, person, False)
    elif spoil == "off every roster":
        roster.remove_from_team(session, None, person, org.teams[0])
        assert roster.authenticate_device(session, credential).team_ids == (org.teams[1].id,)
        roster.remove_from_team(session, None, person, org.teams[1])
    elif spoil == "teams closed":
        for team in org.teams:
            team.active = False
    session.commit()
    if reason is None:
        assert roster.authenticate_device(session, credential).team_ids == (org.teams[0].id, org.teams[1].id)
        return
    with pytest.raises(roster.DeviceRefused) as refused:
        roster.authenticate_device(session, credential)
    assert refused.value.reason == reason
    assert str(refused.value)  # a plain-English reason
    if spoil == "revoke":
        assert roster.authenticate_device(session, other).staff_member_id == person.id


def test_nonsense_credentials_are_unknown(session: Session) -> None:
    make_org(session)
    for credential in ("", "x", "y" * 10_000):
        with pytest.raises(roster.DeviceRefused) as refused:
            roster.authenticate_device(session, credential)
        assert refused.value.reason == roster.Refusal.UNKNOWN


def test_enrolling_by_verified_email_matches_the_roster(session: Session) -> None:
    org = make_org(session)
    put_on_team(session, org.team, "ward.nurse@example.nhs.uk")
    enrolment = roster.enrol_by_email(session, "Ward.Nurse@EXAMPLE.nhs.uk", today=TODAY)
    assert enrolment.identifier == "ward.nurse@example.nhs.uk"
    assert roster.authenticate_device(session, enrolment.credential).team_ids == (org.team.id,)
    for email in ("stranger@example.nhs.uk", "not an email", ""):
        with pytest.raises(roster.EnrolmentRefused) as refused:
            roster.enrol_by_email(session, email, today=TODAY)
        assert (refused.value.status, refused.value.kind, refused.value.field) == (
            403,
            "not-on-roster",
            "email",
        )


THREADS = 12


def test_concurrent_redemptions_of_one_code_enrol_exactly_one_device(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Several phones send the same code at the same moment, each in its own transaction: exactly one gets a
    credential, the others are told it was used. On PostgreSQL they really overlap (row locks); on SQLite
    writers take turns, and the outcome must be the same."""
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    code = issue(session, person)
    sessions: sessionmaker[Session] = app.extensions["pulse"].write_session_factory
    barrier = threading.Barrier(THREADS)

    def redeem(_: int) -> str:
        with sessions() as own:
            barrier.wait(timeout=30)
            try:
                roster.redeem_code(own, code, now=NOW)
            except roster.EnrolmentRefused as refused:
                own.rollback()
                return refused.kind
            own.commit()
            return "enrolled"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = sorted(pool.map(redeem, range(THREADS)))
    assert outcomes == ["enrolled"] + ["enrolment-code-used"] * (THREADS - 1)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EnrolledDevice)) == 1


def wait_for_lock_waiter(session: Session, deadline: float = 60.0) -> None:
    """Until another backend of this database waits on a lock (PostgreSQL can be asked, not told). Each look
    is a transaction of its own: within one, pg_stat_activity answers from the snapshot its first read took,
    so a waiter that arrives later is never seen."""
    ask = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    end = time.monotonic() + deadline
    while True:
        waiting = session.scalar(ask)
        session.rollback()
        if waiting:
            return
        assert time.monotonic() < end, "the second redemption never waited for the first one's row lock"
        time.sleep(0.01)


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["commits", "rolls back"])
def test_a_redemption_waits_for_one_in_flight_and_then_sees_its_outcome(  # type: ignore[no-untyped-def]
    app, session: Session, first: str
) -> None:
    """The interleaving that matters, made to happen: A has claimed the code but not committed; B tries the
    same code and must wait on A's row lock. If A commits, B is told the code was used; if A rolls back
    (the person turned out not to be allowed, say), B gets the code."""
    org = make_org(session)
    (person,) = put_on_team(session, org.team, "a@example.nhs.uk")
    code = issue(session, person)
    sessions: sessionmaker[Session] = app.extensions["pulse"].write_session_factory
    with sessions() as a, sessions() as watcher:
        roster.redeem_code(a, code, now=NOW)

        def b() -> str:
            with sessions() as own:
                try:
                    roster.redeem_code(own, code, now=NOW)
                except roster.EnrolmentRefused as refused:
                    return refused.kind
                own.commit()
                return "enrolled"

        pool = ThreadPoolExecutor(max_workers=1)
        try:
            outcome = pool.submit(b)
            wait_for_lock_waiter(watcher)
            assert not outcome.done()
            if first == "commits":
                a.commit()
            else:
                a.rollback()
            assert outcome.result(timeout=30) == ("enrolment-code-used" if first == "commits" else "enrolled")
        finally:
            # Whatever failed above, A lets go of its lock before the pool waits for B: a failing test
            # must fail, not wait forever.
            a.rollback()
            pool.shutdown(wait=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EnrolledDevice)) == 1
