"""gunicorn settings for Pulse in production: gunicorn -c gunicorn.conf.py pulse.wsgi:app"""

from __future__ import annotations

import os
from typing import Any

from pulse.config import Settings

_settings = Settings.from_env()

bind = f"{_settings.host}:{_settings.port}"
# Sync workers, one short request at a time each: PULSE_WORKERS (about 2 x cores + 1) is what scales.
workers = _settings.workers
# Preloaded: the master builds the app once and forks its workers from it, so a worker that dies or is killed
# is replaced in well under a second rather than the seconds it takes to build the app, and the workers share
# the app's memory. Building the app opens no database connection; post_fork makes sure none crosses a fork.
preload_app = True
# Heartbeat files in memory: container disks can stall the heartbeat and get healthy workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - memory, not a temp file
# No runtime control socket (gunicorn 25.1+): nothing needs it; its default path ($HOME/.gunicorn) is shared
# by every gunicorn of the user and is not writable in the container. Older gunicorns ignore the setting.
control_socket_disable = True

# No access log, ever. docs/anonymity.md A5: nothing on the submission path may record a client's address or
# the exact time of a request, and an access log line for POST /api/v1/ratings would do both. The error log
# (gunicorn's own messages, on stderr) has no line per request: only start/stop, and tracebacks of failures.
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = _settings.log_level.lower()


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: let go of any pooled database connection the master might hold."""
    from pulse.runtime import after_fork

    after_fork(server.app.wsgi())


def on_starting(server: Any) -> None:
    """Refuse to start if an access log was switched on anyway (command line or GUNICORN_CMD_ARGS)."""
    enabled = getattr(server.log, "access_log_enabled", bool(server.cfg.accesslog))
    if enabled:
        raise RuntimeError(
            "Pulse must not write an access log (docs/anonymity.md A5: no client address or time on the "
            "rating path). Remove --access-logfile, --log-config* or syslog access redirection."
        )
