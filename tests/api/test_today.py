"""The organisation's "today so far": it moves only in steps of at least k people, and publication later
hides what must be hidden around those steps."""

from __future__ import annotations

import csv
import datetime as dt
import io

from tests.conftest import LONDON, FakeClock
from tests.factories import add_week, make_org, mix, rating_body

K = 5  # the test app's minimum group size


def rate(client, code: str, n: int, colour: str = "green") -> None:  # type: ignore[no-untyped-def]
    """`n` ratings, then a mix: "today so far" moves once the mixer has added them to the tallies."""
    for _ in range(n):
        assert client.post("/api/v1/ratings", json=rating_body(code, colour)).status_code == 201
    mix(client.application)


def today(client):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/figures/organisation/today").get_json()


def test_today_moves_only_in_steps_of_k(client, session) -> None:
    org = make_org(session)
    rate(client, org.team.join_code, K - 1)
    assert today(client)["ratings"] is None
    assert today(client)["note"] == "not enough ratings to show"

    rate(client, org.team.join_code, 1, "red")
    first = today(client)
    assert (first["ratings"], first["red"], first["shift_date"]) == (K, 1, "2026-11-18")

    rate(client, org.teams[1].join_code, K - 1)
    assert today(client) == first, "fewer than k new ratings never move the figure"
    rate(client, org.teams[1].join_code, 1)
    assert today(client)["ratings"] == 2 * K


def test_the_steps_are_in_the_open_data_export(client, session) -> None:
    org = make_org(session)
    rate(client, org.team.join_code, K)
    today(client)
    rows = [r for r in client.get("/api/v1/figures/export.json").get_json() if r["table"] == "today"]
    assert [(r["period"], r["ratings"]) for r in rows] == [("2026-11-18", K)]


def test_publication_hides_the_tail_after_the_last_step(client, session, clock: FakeClock) -> None:
    org = make_org(session, teams=2)
    week = dt.date(2026, 11, 16)
    add_week(session, org, week, {0: (3, 9, 30, 14), 1: (2, 8, 25, 13)}, days=2)  # Monday and Tuesday
    rate(client, org.team.join_code, K)  # Wednesday's Early: one step of k...
    assert today(client)["ratings"] == K
    rate(client, org.team.join_code, 2, "red")  # ...and a tail of two

    clock.set(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON))  # the next Tuesday: the week has closed
    days = client.get("/api/v1/figures/organisation/days").get_json()
    wednesday = next(d for d in days if d["shift_date"] == "2026-11-18")
    early = next(b for b in wednesday["bands"] if b["band"] == "Early")
    assert early["ratings"] is None, "Early minus its last step would give the two late raters away"
    assert wednesday["ratings"] is None

    week_total = client.get("/api/v1/figures/organisation/weeks").get_json()[-1]
    assert week_total["ratings"] == 42 + 35 + K + 2
    shown_days = sum(d["ratings"] or 0 for d in days)
    assert week_total["ratings"] - shown_days - K >= K or week_total["ratings"] - shown_days - K == 0

    from click.testing import CliRunner

    from pulse.cli import cli

    env = {"PULSE_DATABASE_URL": str(session.get_bind().url.render_as_string(hide_password=False))}
    result = CliRunner().invoke(cli, ["audit"], env=env)
    assert result.exit_code == 0, result.output


def chains(rows: list[dict]) -> dict[tuple, list[int]]:
    """The export's "today" steps: each shift's running counts, in order."""
    found: dict[tuple, list[int]] = {}
    for row in rows:
        if row["table"] == "today":
            found.setdefault((row["period"], row["unit_id"]), []).append(row["ratings"])
    return found


def smallest_group(steps: list[int]) -> int:
    """The smallest group the steps show: the first step, or the difference between two in a row."""
    return min(b - a for a, b in zip([0, *steps], steps, strict=False))


def test_raising_k_leaves_no_step_below_the_k_it_is_shown_under(client, session, clock: FakeClock) -> None:
    """Steps taken under k = 5 stay out of what is shown once k is 10: the live figure, the export, and the
    published week (labelled with k = 10), from which no group of fewer than 10 may be worked out."""
    from pulse.models import PublishedWeek
    from pulse.services.organisation import set_minimum_group_size

    org = make_org(session, headcount=30)  # room for 23 ratings in one shift
    code = org.team.join_code
    rate(client, code, K)
    assert today(client)["ratings"] == K
    rate(client, code, K)
    assert today(client)["ratings"] == 2 * K  # two steps of 5, taken while k was 5
    set_minimum_group_size(session, 2 * K)
    session.commit()

    live = today(client)
    assert live["ratings"] is None or live["ratings"] >= 2 * K
    steps = chains(client.get("/api/v1/figures/export.json").get_json())
    assert steps and all(smallest_group(s) >= 2 * K for s in steps.values()), steps

    rate(client, code, 2 * K, "red")
    assert today(client)["ratings"] == 4 * K  # a step of 10 under the new k
    rate(client, code, 3)  # and a tail of 3

    clock.set(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON))  # the next Tuesday: the week has closed
    rows = client.get("/api/v1/figures/export.json").get_json()
    k = session.query(PublishedWeek.k).filter_by(week_start=dt.date(2026, 11, 16)).scalar()
    assert k == 2 * K
    shown = chains(rows)
    assert shown == {("2026-11-18", org.bands["Early"].id): [2 * K, 4 * K]}
    for (period, band), steps_shown in shown.items():
        assert smallest_group(steps_shown) >= k, (period, steps_shown)
        shift = next(
            r
            for r in rows
            if r["table"] == "figures"
            and r["level"] == "shift"
            and (r["period"], r["unit_id"]) == (period, band)
        )
        if shift["ratings"] is not None:
            assert shift["ratings"] == steps_shown[-1] or shift["ratings"] - steps_shown[-1] >= k
    as_csv = csv.DictReader(io.StringIO(client.get("/api/v1/figures/export.csv").get_data(as_text=True)))
    assert [r for r in as_csv if r["table"] == "today"] == [
        {key: "" if value is None else str(value) for key, value in r.items()}
        for r in rows
        if r["table"] == "today"
    ]
