"""Accounts and who may act where: argon2 passwords, administrators and managers, departments in scope, and
never an organisation left without an active administrator.

A role changes what one may *do*, never what one may see (docs/anonymity.md A20): nothing here gates a figure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pulse.models import Department, Role, Team, User
from pulse.services.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable", out of reach of online guessing
ZXCVBN_MAX_LENGTH = 72
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LAST_ADMIN = (
    "This is the last active administrator: make someone else an administrator before deactivating "
    "this account."
)
# argon2id with the library's current defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()
# Verified when the email is unknown, so a wrong email takes as long as a wrong password. Made at the first
# sign-in, not at import: hashing takes argon2's 64 MiB for a moment, and every worker would pay it at start.
_dummy_hashes: dict[tuple[object, ...], str] = {}


def _dummy_hash() -> str:
    h = _hasher
    parameters = (h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len, h.type)
    if parameters not in _dummy_hashes:
        _dummy_hashes[parameters] = _hasher.hash("pulse-no-such-account")
    return _dummy_hashes[parameters]


class AccountError(InvalidInput):
    """A request about accounts that cannot be met."""


class NotAllowed(PermissionError):
    """The signed-in person may not do this here."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str, email: str = "", field: str = "password") -> None:
    """NIST SP 800-63B: a length, no composition rules, and no password that is common, leaked or guessable.

    zxcvbn (Dropbox's estimator) knows the most common passwords of public breaches, English words, names and
    keyboard patterns, and how people vary them (l33t, years, repeats); a password it scores below
    MIN_PASSWORD_SCORE, "safely unguessable", is refused with its own advice. The email and "pulse" count as
    words an attacker would try first.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.", field)
    if len(password) > 1024:
        raise AccountError("Use at most 1,024 characters for the password.", field)
    if email and password.strip().lower() == normalise_email(email):
        raise AccountError("Do not use your email address as your password.", field)
    from zxcvbn import zxcvbn  # its word lists take a moment to load: only where passwords are set

    words = (
        [normalise_email(email), normalise_email(email).partition("@")[0], "pulse"] if email else ["pulse"]
    )
    # zxcvbn takes up to 72 characters; a longer password is at least as strong as its first 72.
    strength = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=words)
    if strength["score"] < MIN_PASSWORD_SCORE:
        feedback = strength["feedback"]
        advice = " ".join([feedback.get("warning") or "", *feedback.get("suggestions", [])]).strip()
        raise AccountError(
            "This password is too easy to guess: it is common, or close to one that is. "
            + (advice or "Try a few unrelated words together."),
            field,
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
    departments: Iterable[Department] = (),
) -> User:
    """A new administrator or manager. Without a password, the account can sign in only through SSO."""
    email = normalise_email(email)
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError("Enter an email address like name@example.nhs.uk.", "email")
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError("Enter a name of 1 to 120 characters.", "name")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("There is already an account with this email address.", "email")
    if password is not None:
        check_password_rules(password, email)
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        departments=list(departments) if role == Role.MANAGER else [],
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Rehashes when argon2's parameters have moved."""
    user = session.scalar(select(User).where(User.email == normalise_email(email), User.active.is_(True)))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.password_hash is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Change a password, ending every other session of this account."""
    if user.password_hash is None:
        raise AccountError("This account signs in through your organisation's single sign-on.", "current")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise AccountError("Your current password is not right.", "current") from exc
    check_password_rules(new, user.email, "new")
    if current == new:
        raise AccountError("Choose a password different from your current one.", "new")
    user.password_hash = hash_password(new)
    user.session_version += 1
    session.flush()


def set_password(session: Session, user: User, new: str) -> None:
    """Set a password without the old one (an operator's reset), ending every session of the account."""
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    user.session_version += 1
    session.flush()


def end_sessions(session: Session, user: User) -> None:
    """End every session of the account (signing out ends them all: a copied cookie must not outlive it)."""
    user.session_version += 1
    session.flush()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def find_user_for_sso(session: Session, email: str) -> User | None:
    """The active account an identity provider's verified email belongs to. SSO never creates accounts."""
    return session.scalar(select(User).where(User.email == normalise_email(email), User.active.is_(True)))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id, options=[selectinload(User.departments)])


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.departments)).order_by(User.email)))


def count_admins(session: Session) -> int:
    stmt = select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True))
    return session.scalar(stmt) or 0


# --- Who may act where -------------------------------------------------------------------------------------


def may_act_in(user: User, department_id: int) -> bool:
    return user.active and (user.is_admin or any(d.id == department_id for d in user.departments))


def require_admin(user: User) -> None:
    if not (user.active and user.is_admin):
        raise NotAllowed("Only an administrator can do this.")


def require_department(user: User, department_id: int) -> None:
    if not may_act_in(user, department_id):
        raise NotAllowed("You can only make changes in the departments you manage.")


def require_team(user: User, team: Team) -> None:
    require_department(user, team.department_id)


def departments_in_scope(session: Session, user: User) -> list[Department]:
    if user.is_admin:
        stmt = select(Department).options(selectinload(Department.teams)).order_by(Department.name)
        return list(session.scalars(stmt))
    return list(user.departments)


def departments_by_id(session: Session, department_ids: Iterable[int]) -> list[Department]:
    """The departments with these ids, by name. Raises AccountError if any of them does not exist."""
    wanted = set(department_ids)
    if not wanted:
        return []
    found = list(
        session.scalars(select(Department).where(Department.id.in_(wanted)).order_by(Department.name))
    )
    if len(found) != len(wanted):
        raise AccountError("Choose departments from the list.", "department_ids")
    return found


def set_scope(session: Session, actor: User, user: User, departments: Iterable[Department]) -> None:
    """Give a manager their departments. Only an administrator may, and never for their own account."""
    require_admin(actor)
    if actor.id == user.id:
        raise NotAllowed("You cannot change your own role or departments; ask another administrator.")
    if user.role != Role.MANAGER:
        raise AccountError("Only managers have departments; administrators act everywhere.", "departments")
    user.departments = list(departments)
    session.flush()


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    require_admin(actor)
    if actor.id == user.id:
        raise NotAllowed("You cannot deactivate your own account; ask another administrator.")
    user.active = active
    user.session_version += 1  # signs the account out everywhere
    session.flush()


def set_user_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate or reactivate an account (set_active's rules), keeping one active administrator.

    The active administrators' rows are locked first (PostgreSQL), so that two administrators deactivating
    each other at once cannot both succeed: the second sees the first's change and is refused.
    """
    require_admin(actor)
    locked = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    admin_ids = set(session.scalars(locked.with_for_update()))
    if not active and user.role == Role.ADMIN and user.id != actor.id and not admin_ids - {user.id}:
        raise AccountError(LAST_ADMIN, "active")
    set_active(session, actor, user, active)  # refuses your own account (NotAllowed)
