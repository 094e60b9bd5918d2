"""Settings come from the environment, typed, with safe defaults; unsafe production settings are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulse import create_app
from pulse.config import ConfigError, Settings


def test_defaults_use_embedded_sqlite_in_local_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"PULSE_DATA_DIR": str(tmp_path / "data")})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'data' / 'pulse.db').as_posix()}"
    assert (settings.min_group_size, settings.grace_minutes, settings.timezone) == (10, 120, "Europe/London")


def test_environment_values_are_typed() -> None:
    settings = Settings.from_env(
        {
            "PULSE_MIN_GROUP_SIZE": "7",
            "PULSE_GRACE_MINUTES": "30",
            "PULSE_TIMEZONE": "Europe/Dublin",
            "PULSE_PORT": "9000",
        }
    )
    assert settings.min_group_size == 7 and settings.grace_minutes == 30 and settings.port == 9000
    assert settings.tz.key == "Europe/Dublin"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PULSE_ENV": "production"}, "PULSE_SECRET_KEY"),
        ({"PULSE_ENV": "production", "PULSE_SECRET_KEY": "short"}, "PULSE_SECRET_KEY"),
        ({"PULSE_ENV": "staging"}, "PULSE_ENV"),
        ({"PULSE_MIN_GROUP_SIZE": "4"}, "never be below 5"),
        ({"PULSE_MIN_GROUP_SIZE": "ten"}, "whole number"),
        ({"PULSE_GRACE_MINUTES": "-1"}, "PULSE_GRACE_MINUTES"),
        ({"PULSE_TIMEZONE": "Mars/Olympus_Mons"}, "PULSE_TIMEZONE"),
        ({"PULSE_MAX_BODY_BYTES": "10"}, "PULSE_MAX_BODY_BYTES"),
    ],
)
def test_bad_settings_are_refused_with_the_variable_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_production_starts_with_a_real_secret(tmp_path: Path) -> None:
    secret = "s" * 40
    settings = Settings.from_env(
        {
            "PULSE_ENV": "production",
            "PULSE_SECRET_KEY": secret,
            "PULSE_DATA_DIR": str(tmp_path),
            "PULSE_PUBLIC_URL": "https://pulse.example.nhs.uk",
            "PULSE_RATELIMIT_STORAGE_URL": "redis://redis:6379/0",
        }
    )
    assert settings.secret_key == secret
    assert settings.describe()["secret_key"] == "(set)"
    kept = Settings.from_env({"PULSE_DATA_DIR": str(tmp_path)}).describe()["secret_key"]
    assert kept == f"(kept in {tmp_path / 'secret_key'})"


def test_app_refuses_to_start_in_production_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_ENV", "production")
    monkeypatch.delenv("PULSE_SECRET_KEY")
    with pytest.raises(ConfigError, match="PULSE_SECRET_KEY"):
        create_app({"dashboard": False})


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.from_env({}, colour_scheme="pink")


def test_describe_never_shows_a_password_in_an_address() -> None:
    settings = Settings.from_env(
        {
            "PULSE_DATABASE_URL": "postgresql+psycopg://pulse:hunter2secret@db:5432/pulse",
            "PULSE_RATELIMIT_STORAGE_URL": "redis://:redispass99@cache:6379/0",
        }
    )
    shown = settings.describe()
    assert "hunter2secret" not in str(shown) and "redispass99" not in str(shown)
    assert shown["database_url"] == "postgresql+psycopg://pulse:***@db:5432/pulse"


def test_enrolment_settings() -> None:
    settings = Settings.from_env({})
    assert settings.enrolment_code_days == 14
    assert settings.provider_name == "your organisation account"
    named = Settings.from_env({"PULSE_OIDC_PROVIDER_NAME": " NHSmail ", "PULSE_ENROLMENT_CODE_DAYS": "30"})
    assert (named.provider_name, named.enrolment_code_days) == ("NHSmail", 30)
    for days in ("0", "91"):
        with pytest.raises(ConfigError, match="PULSE_ENROLMENT_CODE_DAYS"):
            Settings.from_env({"PULSE_ENROLMENT_CODE_DAYS": days})
    with pytest.raises(ConfigError, match="PULSE_OIDC_PROVIDER_NAME"):
        Settings.from_env({"PULSE_OIDC_PROVIDER_NAME": "x" * 61})
