"""Level C (docs/anonymity.md A12): a copy of the raw files at T gives nothing finer than the tallies on the
ratings acknowledged before T - Delta, once the routine maintenance has run (tests/privacy/maintenance.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.privacy import attacks
from tests.privacy.conftest import Target, assert_nothing_beyond_tallies
from tests.privacy.maintenance import vacuum_and_checkpoint
from tests.privacy.reconstruction import score


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_copy_of_sqlite_and_its_wal_replays_nothing(target: Target, tmp_path: Path) -> None:
    """pulse.db and pulse.db-wal copied while Pulse runs (its connections open), then replayed commit by
    commit: each snapshot read with sqlite3, each commit's change to the tables worked back to ratings."""
    scenario = target.rate()
    now = target.clock()
    target.maintenance.due(target.app, now)
    assert target.sqlite_path is not None
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{target.sqlite_path}{suffix}")
        if source.exists():
            shutil.copyfile(source, copy / f"pulse.db{suffix}")
    claims, commits = attacks.wal_replay(copy / "pulse.db", copy / "pulse.db-wal", target.catalogue)
    protected = scenario.older_than(now - target.maintenance.delta)

    print(f"the WAL held {commits} commits")
    assert_nothing_beyond_tallies(score("sqlite: WAL replay", scenario.ratings, claims, protected=protected))


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_raw_pages_after_maintenance_hold_no_dead_rating(target: Target) -> None:
    """Every tuple version carved out of the tally and receipt tables' pages (pageinspect's get_raw_page: the
    8 kB blocks as the data files hold them) after the routine maintenance, then again after a VACUUM and a
    CHECKPOINT (autovacuum and the checkpointer may come at any time)."""
    scenario = target.rate()
    now = target.clock()
    target.maintenance.now(target.app, now)
    protected = scenario.older_than(now - target.maintenance.delta)
    claims, versions = attacks.dead_tuples(target.engine, target.catalogue)
    print(f"after maintenance, the pages held {versions} tuple versions")
    vacuum_and_checkpoint(target.engine)
    vacuumed, vacuumed_versions = attacks.dead_tuples(target.engine, target.catalogue)
    print(f"after VACUUM, the pages held {vacuumed_versions} tuple versions")

    assert_nothing_beyond_tallies(
        score("postgres: raw pages", scenario.ratings, claims, protected=protected),
        score("postgres: raw pages after VACUUM", scenario.ratings, vacuumed, protected=protected),
    )
