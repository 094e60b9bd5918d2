"""The `pulse` command line, run as operators run it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from pulse.cli import cli
from pulse.models import Team
from tests.services.test_structure_import import GOOD


@pytest.fixture
def run(app, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, **extra_env: str):  # type: ignore[no-untyped-def]
        env = {"PULSE_DATABASE_URL": database_url, "PULSE_ENV": "test", **extra_env}
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_import_structure_twice_changes_nothing_the_second_time(run, session, tmp_path: Path) -> None:
    csv_file = tmp_path / "structure.csv"
    csv_file.write_text(GOOD, encoding="utf-8")
    first = run("import-structure", str(csv_file))
    assert first.exit_code == 0, first.output
    assert "teams: 3 created" in first.output
    second = run("import-structure", str(csv_file))
    assert second.exit_code == 0 and "teams: 0 created, 0 updated, 3 unchanged" in second.output
    assert session.scalar(select(func.count()).select_from(Team)) == 3


def test_import_structure_with_bad_rows_names_them_and_imports_nothing(run, session, tmp_path: Path) -> None:
    csv_file = tmp_path / "structure.csv"
    csv_file.write_text(GOOD + "team,Ward 9,Maternity,lots,,,\n", encoding="utf-8")
    result = run("import-structure", str(csv_file))
    assert result.exit_code == 1
    assert "line 11: headcount: Not a valid integer." in result.output
    assert "nothing was imported" in result.output
    assert session.scalar(select(func.count()).select_from(Team)) == 0


def test_export_structure_writes_the_import_format(run, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(GOOD, encoding="utf-8")
    assert run("import-structure", str(source)).exit_code == 0
    assert run("export-structure", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("kind,name,department,headcount,active,start,end\n")
    assert "Majors" in run("export-structure").output


def test_join_codes_list_and_rotate(run, session, tmp_path: Path) -> None:
    csv_file = tmp_path / "structure.csv"
    csv_file.write_text(GOOD, encoding="utf-8")
    run("import-structure", str(csv_file))
    team = session.scalar(select(Team).where(Team.name == "Majors"))
    listing = run("join-codes").output
    assert team.join_code in listing and "Emergency Department / Majors" in listing

    rotated = run("join-codes", "--rotate", str(team.id))
    assert rotated.exit_code == 0 and "no longer works" in rotated.output
    session.rollback()  # end the read snapshot so the next read sees new commits
    assert session.get(Team, team.id).join_code not in listing
    assert run("join-codes", "--rotate", "9999").exit_code == 1


def test_purge_and_db_upgrade_report_what_they_did(run) -> None:
    assert "Destroyed 0 expired key(s)" in run("purge").output
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0 and "is at head" in upgraded.output


def test_demo_seeds_then_serves_with_the_database_free_for_ratings(
    run, session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While `pulse demo` serves, ratings must be writable: the command may hold no transaction open."""
    import pulse.cli.server
    from tests.factories import rating_body

    served: dict[str, int] = {}

    def fake_serve(app, host: str, port: int, threads: int) -> None:  # type: ignore[no-untyped-def]
        code = session.scalar(select(Team.join_code).limit(1))
        session.rollback()

        def post() -> None:  # from a thread of its own, as the server's worker threads do
            served["status"] = app.test_client().post("/api/v1/ratings", json=rating_body(code)).status_code

        worker = threading.Thread(target=post)
        worker.start()
        worker.join(timeout=60)

    monkeypatch.setattr(pulse.cli.server, "run_server", fake_serve)
    monkeypatch.setenv("PULSE_GRACE_MINUTES", "1440")  # some band is open whatever the time of day
    result = run("demo", "--weeks", "2", "--port", "8099")
    assert result.exit_code == 0, result.output
    assert "Organisation: 12 departments, 60 teams" in result.output
    assert "http://127.0.0.1:8099/dashboard/" in result.output
    assert served["status"] == 201

    again = run("demo", "--no-serve")
    assert "already holds an organisation" in again.output


def test_serve_says_it_is_for_trying_pulse_not_for_production(run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14, point 10: waitress alone is held up by slow clients (and has no TLS); production runs nginx
    in front of gunicorn, and `pulse serve` says so as it starts."""
    import pulse.cli.server

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(
        pulse.cli.server, "run_server", lambda app, host, port, threads: served.append((host, port))
    )
    result = run("serve", "--port", "8098")
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 8098)]
    assert "for trying Pulse, not for production" in result.output
    assert "nginx in front of gunicorn" in result.output and "docs/operations.md" in result.output
    assert "answers only for localhost and 127.0.0.1: set PULSE_TRUSTED_HOSTS" in result.output


def test_publish_then_audit(run, session) -> None:
    import datetime as dt

    from tests.factories import add_week, make_org

    org = make_org(session, teams=3)
    add_week(session, org, dt.date(2026, 11, 2), {0: (2, 4, 6, 12), 1: (3, 5, 7, 15), 2: (1, 1, 1, 3)})
    # The CLI uses the real clock, which is later than November 2026's second week in any run of this suite.
    published = run("publish")
    assert published.exit_code == 0 and "Published" in published.output
    assert "Nothing to publish" in run("publish").output

    audited = run("audit")
    assert audited.exit_code == 0, audited.output
    assert "Audited" in audited.output and "No hidden figure can be worked out" in audited.output


def test_audit_exits_non_zero_on_a_leak(run, session) -> None:
    import datetime as dt

    from sqlalchemy import update

    from pulse.models import Level, PublishedCell
    from tests.factories import add_week, make_org

    org = make_org(session, teams=3)
    add_week(session, org, dt.date(2026, 11, 2), {0: (2, 4, 6, 12), 1: (3, 5, 7, 15), 2: (1, 1, 1, 3)})
    assert run("publish").exit_code == 0
    # Tamper with the published data as a faulty publisher would: show the team hidden for company.
    session.execute(
        update(PublishedCell)
        .where(PublishedCell.level == Level.TEAM, PublishedCell.unit_id == org.teams[0].id)
        .values(red=2, amber=4, green=6, contributors=12)
    )
    session.commit()
    audited = run("audit")
    assert audited.exit_code == 1
    assert "LEAK" in audited.output and "can be worked out" in audited.output


def test_kiosk_enable_prints_the_address_and_the_weaker_guarantee(run, session) -> None:
    from tests.factories import make_org

    org = make_org(session, headcount=12)
    enabled = run("kiosk", "enable", str(org.team.id))
    assert enabled.exit_code == 0, enabled.output
    session.rollback()
    token = session.scalar(select(Team.kiosk_token).where(Team.id == org.team.id))
    assert token and f"/k/{token}" in enabled.output
    assert "at most 12 ratings per shift" in enabled.output
    assert "cannot tell people apart" in enabled.output

    disabled = run("kiosk", "disable", str(org.team.id))
    assert disabled.exit_code == 0 and "no longer works" in disabled.output
    session.rollback()
    assert session.scalar(select(Team.kiosk_token).where(Team.id == org.team.id)) is None
    assert run("kiosk", "enable", "9999").exit_code == 1


def test_kiosk_enable_refuses_a_team_without_a_headcount(run, session) -> None:
    from tests.factories import make_org

    org = make_org(session, headcount=0)
    refused = run("kiosk", "enable", str(org.team.id))
    assert refused.exit_code == 1 and "headcount" in refused.output


def test_support_links_add_list_retire(run, session) -> None:
    added = run(
        "support-links", "add", "Staff wellbeing", "https://wellbeing.example.org/", "--description", "Hi"
    )
    assert added.exit_code == 0, added.output
    assert "Staff wellbeing\thttps://wellbeing.example.org/\tHi" in run("support-links", "list").output
    bad = run("support-links", "add", "Bad", "javascript:alert(1)")
    assert bad.exit_code == 1 and "https://" in bad.output
    link_id = run("support-links", "list").output.split("\t")[0]
    assert run("support-links", "retire", link_id).exit_code == 0
    assert "Staff wellbeing" not in run("support-links", "list").output
    assert run("support-links", "retire", "9999").exit_code == 1


def test_support_links_add_matches_labels_ignoring_case_and_brings_back_a_retired_one(run, session) -> None:
    """The command line adds support links as the admin area does (one service function): a label that a
    shown link has, in any case, is refused; a retired one comes back, in its place, with the new address."""
    from pulse.models import AuditEvent, SupportLink

    assert run("support-links", "add", "Chaplaincy", "https://old.example.nhs.uk/").exit_code == 0
    assert run("support-links", "add", "Samaritans", "tel:116123").exit_code == 0
    duplicate = run("support-links", "add", "CHAPLAINCY", "https://other.example.nhs.uk/")
    assert duplicate.exit_code == 1 and "already a support link labelled Chaplaincy" in duplicate.output
    session.rollback()
    chaplaincy = session.scalar(select(SupportLink).where(SupportLink.label == "Chaplaincy"))
    assert run("support-links", "retire", str(chaplaincy.id)).exit_code == 0

    restored = run("support-links", "add", "chaplaincy", "tel:01234567890", "--description", "Any time.")
    assert restored.exit_code == 0, restored.output
    assert f"Brought back support link {chaplaincy.id}: Chaplaincy" in restored.output
    listing = run("support-links", "list").output.splitlines()
    assert listing[0] == f"{chaplaincy.id}\tChaplaincy\ttel:01234567890\tAny time."  # in its old place
    assert len(listing) == 2 and "\tSamaritans\t" in listing[1]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SupportLink)) == 2
    actions = [event.action for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [
        "support_link.create",
        "support_link.create",
        "support_link.retire",
        "support_link.restore",
    ]


def test_create_admin_then_sign_in(run, app, session) -> None:
    from pulse.models import AuditEvent, User
    from tests.admin.conftest import sign_in

    created = run(
        "create-admin",
        "First@Example.NHS.uk",
        "--name",
        "First Admin",
        "--password",
        "a long first passphrase",
    )
    assert created.exit_code == 0, created.output
    assert "Sign in at http://127.0.0.1:8050/admin/login" in created.output, "the whole address"
    session.rollback()
    user = session.scalar(select(User).where(User.email == "first@example.nhs.uk"))
    assert user is not None and user.is_admin and user.password_hash.startswith("$argon2id$")
    event = session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.target) == (
        "command line",
        "user.create",
        "first@example.nhs.uk",
    )
    client = app.test_client()
    sign_in(client, "first@example.nhs.uk", "a long first passphrase")
    assert client.get("/admin/users").status_code == 200

    again = run(
        "create-admin", "first@example.nhs.uk", "--name", "Again", "--password", "another long phrase"
    )
    assert again.exit_code == 1 and "already an account" in again.output
    short = run("create-admin", "second@example.nhs.uk", "--name", "S", "--password", "short")
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_help_lists_pulses_own_commands_only(run) -> None:
    shown = run("--help")
    assert shown.exit_code == 0
    commands = shown.output.split("Commands:")[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert {"serve", "demo", "db", "join-codes", "create-admin", "publish", "audit"} <= listed
    assert not listed & {"limiter", "openapi", "run", "shell", "routes"}, "no extension's or Flask's commands"
    for flask_option in ("--app", "--env-file", "--debug", "-A", "-e"):
        assert flask_option not in shown.output


def test_create_admin_and_join_codes_print_whole_addresses_from_the_public_url(
    run, session, tmp_path: Path
) -> None:
    csv_file = tmp_path / "structure.csv"
    csv_file.write_text(GOOD, encoding="utf-8")
    run("import-structure", str(csv_file))
    public = {"PULSE_PUBLIC_URL": "https://pulse.example.nhs.uk/"}
    created = run(
        "create-admin", "a@example.nhs.uk", "--name", "A", "--password", "a long passphrase", **public
    )
    assert "Sign in at https://pulse.example.nhs.uk/admin/login" in created.output
    listing = run("join-codes", **public).output.splitlines()
    assert listing[0].split("\t") == [
        "Team id",
        "Join code",
        "Department / team",
        "Rating link (the ward poster: the link + /poster)",
    ]
    majors = session.scalar(select(Team).where(Team.name == "Majors"))
    row = next(line.split("\t") for line in listing if "/ Majors" in line)
    assert row == [str(majors.id), majors.join_code, "Emergency Department / Majors",
                   f"https://pulse.example.nhs.uk/r/{majors.join_code}"]  # fmt: skip


def test_set_password_resets_and_ends_sessions(run, app, session) -> None:
    from pulse.models import Role
    from pulse.services import accounts
    from tests.admin.conftest import sign_in

    accounts.create_user(
        session, email="m@example.nhs.uk", name="M", role=Role.MANAGER, password="the old passphrase"
    )
    session.commit()
    before = app.test_client()
    sign_in(before, "m@example.nhs.uk", "the old passphrase")
    reset = run("set-password", "m@example.nhs.uk", "--password", "the new passphrase")
    assert reset.exit_code == 0, reset.output
    assert before.get("/admin/").status_code == 401
    sign_in(app.test_client(), "m@example.nhs.uk", "the new passphrase")
    assert run("set-password", "nobody@example.nhs.uk", "--password", "whatever long one").exit_code == 1
