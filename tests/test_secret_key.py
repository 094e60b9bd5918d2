"""With no PULSE_SECRET_KEY, Pulse makes a random key on its first run and keeps it, private, in the data
directory: no key known to anyone else ever signs a session (issue 14, point 1)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import Engine

from pulse import create_app
from pulse.config import ConfigError, Settings
from pulse.models import Role
from pulse.secret_key import KEY_FILE, load_or_create
from pulse.services import accounts

# The key every install without PULSE_SECRET_KEY used to sign with; it is in the project's history for good.
FORMER_BUILT_IN_KEY = "pulse-development-secret-change-me"


@pytest.fixture
def keyless(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clean_db: Engine, database_url: str):  # type: ignore[no-untyped-def]
    """create_app as a trial install runs it: development, no PULSE_SECRET_KEY, data in tmp_path/data."""
    monkeypatch.delenv("PULSE_SECRET_KEY", raising=False)
    data_dir = tmp_path / "data"
    made: list[Flask] = []

    def make() -> Flask:
        app = create_app({"database_url": database_url, "data_dir": str(data_dir), "dashboard": False})
        made.append(app)
        return app

    yield make, data_dir
    for app in made:
        app.extensions["pulse"].engine.dispose()


def test_the_first_run_makes_a_private_random_key_and_later_runs_keep_it(keyless) -> None:  # type: ignore[no-untyped-def]
    make, data_dir = keyless
    first = make()
    path = data_dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text(encoding="ascii").strip()
    assert len(key) >= 48 and first.secret_key == key == first.extensions["pulse"].settings.secret_key
    assert make().secret_key == key, "the key must survive a restart: digests and sessions depend on it"
    assert list(data_dir.iterdir()) == [path], "no temporary file is left behind"


def test_a_cookie_signed_with_the_former_built_in_key_opens_nothing(keyless) -> None:  # type: ignore[no-untyped-def]
    make, _ = keyless
    app = make()
    with app.extensions["pulse"].session_factory() as session:
        admin = accounts.create_user(
            session,
            email="admin@example.nhs.uk",
            name="Ada Admin",
            role=Role.ADMIN,
            password="a perfectly good passphrase",
        )
        session.commit()
        user_id = f"{admin.id}:{admin.session_version}"
    forger = Flask("forger")
    forger.secret_key = FORMER_BUILT_IN_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    forged = serializer.dumps({"_user_id": user_id, "_fresh": True})

    client = app.test_client()
    client.set_cookie("pulse_session", forged)
    assert client.get("/admin/users").status_code == 401


def test_processes_starting_together_all_keep_the_same_key(tmp_path: Path) -> None:
    keys: list[str] = []
    start = threading.Barrier(8)

    def run() -> None:
        start.wait()
        keys.append(load_or_create(tmp_path))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (tmp_path / KEY_FILE).read_text(encoding="ascii").strip() == keys[0]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    load_or_create(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create(tmp_path)


def test_a_short_key_is_refused_in_every_mode() -> None:
    for env in ("development", "test", "production"):
        with pytest.raises(ConfigError, match="PULSE_SECRET_KEY"):
            Settings.from_env({"PULSE_ENV": env, "PULSE_SECRET_KEY": "pulse"})


def test_the_former_built_in_key_is_refused_in_every_mode() -> None:
    """It is 34 characters, long enough to pass the length check, and anyone can read it in the history."""
    for env in ("development", "test", "production"):
        with pytest.raises(ConfigError, match="published"):
            Settings.from_env({"PULSE_ENV": env, "PULSE_SECRET_KEY": FORMER_BUILT_IN_KEY})
