"""Level A (docs/anonymity.md A10): the app's database credentials, at any moment, learn nothing finer than
the tallies. Plain SELECTs on every table, system columns included, with the app's own role, after each
change."""

from __future__ import annotations

import pytest

from tests.privacy import attacks
from tests.privacy.conftest import BACKENDS, Target, assert_nothing_beyond_tallies
from tests.privacy.reconstruction import Recovered, score


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_every_column_in_physical_order_gives_no_rating_away(target: Target) -> None:
    """Each row read in rowid or ctid order, and each stored digest tried under each stored key (a kiosk's:
    its team, shift and taps)."""
    looks = attacks.Looks(target.catalogue)
    truth = target.rate(
        after_each=lambda: looks.look(attacks.select_everything(target.engine, looks.catalogue))
    )

    assert_nothing_beyond_tallies(
        score(f"{target.backend}: stored keys", truth.ratings, looks.keys),
        score(f"{target.backend}: rowid/ctid order", truth.ratings, looks.order),
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_reading_the_tallies_after_each_change_gives_no_rating_away(target: Target) -> None:
    """Someone with the credentials reads the tables after each change: what changed in between."""
    catalogue = target.catalogue
    states = [attacks.state(attacks.select_everything(target.engine, catalogue), catalogue)]
    truth = target.rate(
        after_each=lambda: states.append(
            attacks.state(attacks.select_everything(target.engine, catalogue), catalogue)
        )
    ).ratings

    print(f"{len(states)} looks")
    assert_nothing_beyond_tallies(
        score(f"{target.backend}: polling", truth, attacks.polling(states, catalogue))
    )


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_matching_xmin_links_no_team_to_a_shift(target: Target) -> None:
    """Rows one transaction wrote share their xmin: a team's tally row, a shift's tally row, a receipt."""
    catalogue = target.catalogue
    claims: list[Recovered] = []
    truth = target.rate(
        after_each=lambda: claims.extend(
            attacks.matching_xmin(attacks.select_everything(target.engine, catalogue), catalogue)
        )
    ).ratings

    assert_nothing_beyond_tallies(score("postgres: matching xmin", truth, claims))
