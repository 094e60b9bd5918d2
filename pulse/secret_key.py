"""The secret key of an install that sets no PULSE_SECRET_KEY: random, made on the first run, kept in the data
directory (`secret_key`, readable by its owner only) and used again on every later run.

Pulse signs sessions, CSRF tokens and device cookies with this key and derives keyed digests from it, so it
must stay the same across restarts; a key known to anyone else (a constant in the source, say) would let them
forge an administrator's session. Production never comes here: it refuses to start without PULSE_SECRET_KEY.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from pulse.config import MIN_SECRET_KEY_LENGTH, ConfigError

KEY_FILE = "secret_key"


def load_or_create(data_dir: Path) -> str:
    """The key kept in `data_dir`, made there first if there is none.

    Made atomically: written in full to a private temporary file, then linked into place, so that a process
    starting at the same moment (another gunicorn worker, a `pulse` command) reads either no key or the whole
    key, and the first key linked is the one every process keeps.
    """
    path = Path(data_dir) / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(key + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)  # never replaces a key that another process linked first
        except FileExistsError:
            return _read(path)
    finally:
        os.unlink(temporary)
    return key


def _read(path: Path) -> str:
    with path.open(encoding="ascii") as kept:
        if os.name == "posix" and os.fstat(kept.fileno()).st_mode & 0o077:
            raise ConfigError(
                f"{path} holds Pulse's secret key but others may read it: chmod 600 it (or set "
                "PULSE_SECRET_KEY instead)"
            )
        key = kept.read().strip()
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"{path} holds no usable secret key (fewer than {MIN_SECRET_KEY_LENGTH} characters): delete it, "
            "and Pulse makes a new one (everyone is signed out)"
        )
    return key
