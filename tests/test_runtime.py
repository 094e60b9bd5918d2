"""The request's database sessions, as the runtime opens and ends them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pulse.runtime import close_db_session, db_session, read_session


@pytest.mark.postgres
@pytest.mark.parametrize("opener", [lambda: db_session(write=True), read_session], ids=["write", "read"])
def test_a_connection_cut_before_the_request_ends_is_discarded_not_a_500(app, session, opener) -> None:
    """A database restart can cut a request's connection after its answer is made and before its session is
    closed. Closing must not raise (gunicorn would turn the answer, a 503 say, into a 500), and the next
    request gets a working connection."""
    with app.test_request_context():
        request_session = opener()
        pid = request_session.scalar(text("SELECT pg_backend_pid()"))  # a transaction is open on it
        assert session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
        session.commit()
        close_db_session()
    with app.test_request_context():
        assert db_session(write=True).scalar(text("SELECT 1")) == 1
        close_db_session()
