"""Settings: every environment variable Pulse reads, typed, with a default."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many

MIN_K = 5
MIN_SECRET_KEY_LENGTH = 32
# Keys anyone can read: Pulse's own former built-in development key, in the project's history for good. A
# cookie signed with it opened the admin area (issue 14).
PUBLISHED_SECRET_KEYS = frozenset({"pulse-development-secret-change-me"})
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
ENVIRONMENTS = ("development", "production", "test")


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe; the message says which and why."""


def _default_data_dir() -> Path:
    return Path.cwd() / "pulse-data"


@dataclass(frozen=True)
class Settings:
    """Pulse's configuration. Field names map to PULSE_<NAME> environment variables."""

    env: str = "development"
    # "": made at random on the first run and kept in <data_dir>/secret_key (pulse.secret_key); never in
    # production, which refuses to start without a key of its own.
    secret_key: str = ""
    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    # A read replica for published figures (the figures API and the dashboard); "": read from the primary.
    read_database_url: str = ""
    db_pool_size: int = 5
    timezone: str = "Europe/London"
    min_group_size: int = 10
    grace_minutes: int = 120
    max_body_bytes: int = 16 * 1024
    # The address staff use, printed in poster QR codes and on admin pages. Absolute links come from it, or
    # else from a request whose Host is one of trusted_hosts; production needs one of the two.
    public_url: str = ""
    # Host names Pulse answers for (Flask's TRUSTED_HOSTS), separated by commas; ".example.org" takes its
    # subdomains too. A request for any other Host gets 400. Unset without public_url (outside production):
    # localhost and 127.0.0.1 only.
    trusted_hosts: str = ""
    kiosk_cooldown_seconds: int = 10  # shortest time between two taps on a shared ward tablet
    kiosk_reset_seconds: int = 5  # how long a kiosk shows its thank-you before the next person can see it
    # Where the mixer keeps the inbox epochs' private keys ("": <data_dir>/inbox-keys); nothing else reads it.
    inbox_key_dir: str = ""
    # An inbox epoch is mixed into the tallies once it holds k ratings, or is this many minutes old.
    mix_minutes: int = 10
    # How often maintenance rewrites the tallies and drops old write-ahead log (bounds what a copy of the
    # raw database files can show of recent ratings; docs/anonymity.md A12, level C).
    maintenance_hours: int = 4
    # An administrator's or manager's session ends this long after signing in, whatever they do (absolute),
    # and after this long without a request (idle). Signing out, a password change or deactivation end it at
    # once.
    session_hours: int = 12
    session_idle_minutes: int = 60
    # When the dashboard is for signed-in users: how long a staff device may view it after it last opened its
    # team's rating link (staff who rate keep it fresh).
    dashboard_device_days: int = 30
    # Where rate limits (failed sign-ins, ratings) are counted: memory:// (one process) or redis://host:6379/0
    # (shared by workers).
    ratelimit_storage_url: str = "memory://"
    # Requests per client address per period to the rating endpoints, all together (flask-limiter's notation).
    # Generous: a whole site often shares one NAT address at shift change. "off" (or "") switches it off.
    rating_rate_limit: str = "1200/minute"
    # How many reverse proxies in front of Pulse set X-Forwarded-For and -Proto (werkzeug ProxyFix); 0: none.
    proxy_hops: int = 0
    # Single sign-on through OpenID Connect; all three set, or none.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    # How sign-in buttons name the identity provider ("Sign in with NHSmail"); "": "your organisation account"
    oidc_provider_name: str = ""
    # How long a personal enrolment code works after it is issued (verified rating).
    enrolment_code_days: int = 14
    # Alerts by email (`pulse alerts`): the SMTP server, and the address alerts come from. No host: no email.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls, ssl (implicit TLS, usually port 465) or none (a local relay)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "pulse@localhost"
    host: str = "127.0.0.1"
    port: int = 8050
    workers: int = 4
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite:///{(Path(self.data_dir) / 'pulse.db').as_posix()}"
            object.__setattr__(self, "database_url", url)
        self._validate()

    def _validate(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"PULSE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if self.env == "production" and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"PULSE_SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                "characters in production (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        if self.secret_key in PUBLISHED_SECRET_KEYS:
            raise ConfigError(
                "PULSE_SECRET_KEY is a published key that anyone can sign cookies with; set a random one "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), or leave it unset outside "
                "production and Pulse makes one in PULSE_DATA_DIR"
            )
        if self.secret_key and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"PULSE_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters; leave it "
                "unset outside production and Pulse makes one in PULSE_DATA_DIR"
            )
        if self.min_group_size < MIN_K:
            raise ConfigError(f"PULSE_MIN_GROUP_SIZE is {self.min_group_size}; it may never be below {MIN_K}")
        if not 0 <= self.grace_minutes <= 24 * 60:
            raise ConfigError("PULSE_GRACE_MINUTES must be between 0 and 1440")
        if self.max_body_bytes < 1024:
            raise ConfigError("PULSE_MAX_BODY_BYTES must be at least 1024")
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise ConfigError("PULSE_PUBLIC_URL must start with https:// (or http:// for a trial)")
        if self.env == "production" and not (self.public_url or self.trusted_host_list):
            raise ConfigError(
                "Set PULSE_PUBLIC_URL (the https:// address staff use) or PULSE_TRUSTED_HOSTS in production: "
                "otherwise links and QR codes would be built from the Host header any client can send"
            )
        if any(not _is_host_name(host) for host in self.trusted_host_list):
            raise ConfigError(
                "PULSE_TRUSTED_HOSTS must be host names separated by commas, like pulse.example.nhs.uk, "
                f"not {self.trusted_hosts!r}"
            )
        if not 1 <= self.kiosk_cooldown_seconds <= 600:
            raise ConfigError("PULSE_KIOSK_COOLDOWN_SECONDS must be between 1 and 600")
        if not 1 <= self.mix_minutes <= 60:
            raise ConfigError("PULSE_MIX_MINUTES must be between 1 and 60")
        if not 1 <= self.maintenance_hours <= 12:
            raise ConfigError("PULSE_MAINTENANCE_HOURS must be between 1 and 12")
        if not 1 <= self.kiosk_reset_seconds <= 60:
            raise ConfigError("PULSE_KIOSK_RESET_SECONDS must be between 1 and 60")
        if not 1 <= self.session_hours <= 24 * 7:
            raise ConfigError("PULSE_SESSION_HOURS must be between 1 and 168 (a week)")
        if not 5 <= self.session_idle_minutes <= self.session_hours * 60:
            raise ConfigError(
                "PULSE_SESSION_IDLE_MINUTES must be at least 5, and no longer than PULSE_SESSION_HOURS"
            )
        if not 1 <= self.dashboard_device_days <= 400:
            raise ConfigError("PULSE_DASHBOARD_DEVICE_DAYS must be between 1 and 400")
        if not self.ratelimit_storage_url.startswith(("memory://", "redis://", "rediss://")):
            raise ConfigError("PULSE_RATELIMIT_STORAGE_URL must be memory:// or a redis:// URL")
        if (
            self.env == "production"
            and self.workers > 1
            and self.ratelimit_storage_url.startswith("memory://")
        ):
            raise ConfigError(
                "PULSE_RATELIMIT_STORAGE_URL must be a redis:// URL in production with more than one worker: "
                "with memory:// each worker counts failed sign-ins on its own, and a guesser gets the "
                "allowance once per worker (docker-compose.yml starts Redis for this)"
            )
        if self.rating_limit and not _is_rate(self.rating_limit):
            raise ConfigError(
                f"PULSE_RATING_RATE_LIMIT must be a rate like 1200/minute, or off: not {self.rating_limit!r}"
            )
        if not 0 <= self.proxy_hops <= 10:
            raise ConfigError("PULSE_PROXY_HOPS must be between 0 (no proxy) and 10")
        oidc = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        if any(oidc) and not all(oidc):
            raise ConfigError(
                "Single sign-on needs PULSE_OIDC_ISSUER, PULSE_OIDC_CLIENT_ID and PULSE_OIDC_CLIENT_SECRET, "
                "all three"
            )
        if self.oidc_issuer and not self.oidc_issuer.startswith(("https://", "http://")):
            raise ConfigError("PULSE_OIDC_ISSUER must be the identity provider's https:// address")
        if not 1 <= self.enrolment_code_days <= 90:
            raise ConfigError("PULSE_ENROLMENT_CODE_DAYS must be between 1 and 90")
        if len(self.oidc_provider_name) > 60:
            raise ConfigError("PULSE_OIDC_PROVIDER_NAME must be at most 60 characters")
        if self.smtp_security not in ("starttls", "ssl", "none"):
            raise ConfigError("PULSE_SMTP_SECURITY must be starttls, ssl or none")
        if not 1 <= self.smtp_port <= 65535:
            raise ConfigError("PULSE_SMTP_PORT must be a port number")
        if self.read_database_url and self.read_database_url.startswith("sqlite") != self.is_sqlite:
            raise ConfigError(
                "PULSE_READ_DATABASE_URL must be a replica of PULSE_DATABASE_URL: the same kind of database"
            )
        if self.workers < 1:
            raise ConfigError("PULSE_WORKERS must be at least 1")
        if self.db_pool_size < 1:
            raise ConfigError("PULSE_DB_POOL_SIZE must be at least 1")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"PULSE_TIMEZONE {self.timezone!r} is not a known IANA time zone") from exc

    @property
    def rating_limit(self) -> str:
        """The rate limit on the rating endpoints, or "" when it is switched off."""
        value = self.rating_rate_limit.strip()
        return "" if value.lower() == "off" else value

    @property
    def inbox_keys(self) -> Path:
        """Where the mixer keeps the inbox epochs' private keys."""
        return Path(self.inbox_key_dir) if self.inbox_key_dir else Path(self.data_dir) / "inbox-keys"

    @property
    def trusted_host_list(self) -> list[str]:
        return [host.strip().lower() for host in self.trusted_hosts.split(",") if host.strip()]

    @property
    def allowed_hosts(self) -> list[str] | None:
        """Flask's TRUSTED_HOSTS: the ones set; else none checked when links come from public_url; else the
        loopback names, so that no link is ever built from a Host that nobody chose."""
        if self.trusted_host_list:
            return self.trusted_host_list
        if self.public_url:
            return None
        return list(LOOPBACK_HOSTS)

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def provider_name(self) -> str:
        """The identity provider as the sign-in buttons name it."""
        return self.oidc_provider_name.strip() or "your organisation account"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: in production, or wherever Pulse is published at an https:// address."""
        return self.env == "production" or self.public_url.startswith("https://")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def grace(self) -> dt.timedelta:
        """How long after a shift band ends its ratings are still taken (PULSE_GRACE_MINUTES)."""
        return dt.timedelta(minutes=self.grace_minutes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from PULSE_* variables; keyword overrides win (tests use them)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f"PULSE_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    def describe(self) -> dict[str, str]:
        """Settings as printable text, with the secret key masked."""
        shown = {f.name: str(getattr(self, f.name)) for f in dataclasses.fields(self)}
        kept = Path(self.data_dir) / "secret_key"
        shown["secret_key"] = "(set)" if self.secret_key else f"(kept in {kept})"
        shown["oidc_client_secret"] = "(set)" if self.oidc_client_secret else "(not set)"
        shown["smtp_password"] = "(set)" if self.smtp_password else "(not set)"
        for name in ("database_url", "read_database_url", "ratelimit_storage_url"):
            if getattr(self, name):
                shown[name] = make_url_safe(getattr(self, name))
        return shown


def make_url_safe(url: str) -> str:
    """A database or Redis address with its password, if any, masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ValueError:  # not in URL form: show nothing of it
        return "(set)"


def _is_host_name(value: str) -> bool:
    """A host name or IPv4 address for TRUSTED_HOSTS, optionally with a leading dot (its subdomains)."""
    return (
        re.fullmatch(r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", value) is not None
    )


def _is_rate(value: str) -> bool:
    """A rate in flask-limiter's notation ("1200/minute", "20 per second; 1000/hour"), none of them 0."""
    try:
        return all(item.amount >= 1 for item in parse_many(value))
    except ValueError:
        return False


def _convert(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ConfigError(f"PULSE_{name.upper()} must be a whole number, not {raw!r}") from exc
    return raw
