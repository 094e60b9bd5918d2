"""Passwords that are common, breached or easy to guess are refused wherever a password is set, with advice
(NIST SP 800-63B, through zxcvbn): the account page, a new account, and the `pulse` commands (issue 14,
point 7)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from pulse.cli import cli
from pulse.models import Role
from pulse.services import accounts
from tests.admin.conftest import PASSWORD, People, csrf_token, post, sign_in

GUESSABLE = [
    "password1234",  # from the outside test
    "qwertyuiop123",
    "Password2026!",
    "manager@example.nhs.uk1",  # the account's own email, nearly
    "aaaaaaaaaaaaaaaa",
    "pulsepulse2026",
]
STRONG = ["correct horse battery staple", "plum kettle orbit 47 lantern"]


@pytest.mark.parametrize("password", GUESSABLE)
def test_a_guessable_password_is_refused_with_advice(password: str) -> None:
    with pytest.raises(accounts.AccountError, match="too easy to guess") as refused:
        accounts.check_password_rules(password, "manager@example.nhs.uk")
    assert refused.value.field == "password"


@pytest.mark.parametrize("password", STRONG)
def test_a_passphrase_is_taken(password: str) -> None:
    accounts.check_password_rules(password, "manager@example.nhs.uk")


def test_a_long_passphrase_is_scored_on_its_first_72_characters() -> None:
    accounts.check_password_rules("plum kettle orbit 47 lantern " * 30, "manager@example.nhs.uk")


def test_changing_to_a_guessable_password_is_refused_beside_the_field(
    client: FlaskClient, people: People
) -> None:
    sign_in(client, people.manager.email)
    data = {"current": PASSWORD, "new": "password1234", "confirm": "password1234"}
    response = client.post(
        "/admin/account", data={**data, "csrf_token": csrf_token(client, "/admin/account")}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#new"' in page and "too easy to guess" in page


def test_a_new_account_with_a_guessable_password_is_refused(client: FlaskClient, people: People) -> None:
    sign_in(client, people.admin.email)
    created = post(
        client, "/admin/users", email="new@example.nhs.uk", name="New", role="admin", password="password1234"
    )
    assert created.status_code == 422 and "too easy to guess" in created.get_data(as_text=True)


def test_the_commands_refuse_a_guessable_password(app, session: Session, database_url: str) -> None:  # type: ignore[no-untyped-def]
    env = {"PULSE_DATABASE_URL": database_url, "PULSE_ENV": "test"}
    runner = CliRunner()
    created = runner.invoke(
        cli, ["create-admin", "ada@example.nhs.uk", "--name", "Ada", "--password", "password1234"], env=env
    )
    assert created.exit_code == 1 and "too easy to guess" in created.output
    accounts.create_user(session, email="m@example.nhs.uk", name="M", role=Role.MANAGER, password=STRONG[1])
    session.commit()
    reset = runner.invoke(cli, ["set-password", "m@example.nhs.uk", "--password", "password1234"], env=env)
    assert reset.exit_code == 1 and "too easy to guess" in reset.output
