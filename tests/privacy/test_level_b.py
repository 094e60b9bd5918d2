"""Level B (docs/anonymity.md A11): a logical dump (backups are `pg_dump`; SQLite's is `.dump`), at any
moment, gives nothing finer than the tallies: neither from the order of its rows nor from what they hold."""

from __future__ import annotations

import shutil

import pytest

from tests.privacy import attacks
from tests.privacy.conftest import BACKENDS, Target, assert_nothing_beyond_tallies
from tests.privacy.reconstruction import score


def dump(target: Target, catalogue: attacks.Catalogue) -> attacks.Rows:
    if target.backend == "sqlite":
        assert target.sqlite_path is not None
        return attacks.sqlite_dump_rows(target.sqlite_path, catalogue)
    assert shutil.which("pg_dump"), "pg_dump is not on PATH: install PostgreSQL's client programs"
    return attacks.pg_dump_rows(target.url, catalogue)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_dump_after_any_shift_gives_no_rating_back(target: Target) -> None:
    """A dump taken after each band's ratings: its rows in the dump's order, and its digests tried under the
    keys it holds."""
    looks = attacks.Looks(target.catalogue)
    truth = target.rate(after_batch=lambda: looks.look(dump(target, looks.catalogue)))

    assert_nothing_beyond_tallies(
        score(f"{target.backend} dumps: stored keys", truth.ratings, looks.keys),
        score(f"{target.backend} dumps: row order", truth.ratings, looks.order),
    )
