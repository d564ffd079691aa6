"""Users, roles, sign-ins and API tokens.

Passwords are hashed with Argon2id at OWASP's parameters (PASSWORD_HASH_METHOD
"argon2id"); hashes made earlier with werkzeug (scrypt, pbkdf2) still verify and
are replaced by the configured kind at the next successful sign-in. Tests configure
a cheap werkzeug method so that hundreds of sign-ins stay fast.

An account is locked for a while after too many failed sign-ins. The failures are
the audit log's `login_failed` events, so the lock needs no column of its own and
an admin sees exactly what the lock was based on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.domain.passwords import password_problem
from app.domain.roles import Role
from app.extensions import db
from app.models import ApiToken, Event, User
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.tx import begin_write

TOKEN_PREFIX = "od_"  # noqa: S105  (a visible prefix, not a secret)
ARGON2 = "argon2id"
ANONYMOUS = Actor(label="anonymous")


class AccountLocked(DomainError):
    """Too many failed sign-ins for one account; `until` is when it may try again."""

    code = "account_locked"
    http_status = 429

    def __init__(self, until: datetime) -> None:
        super().__init__("Too many failed sign-in attempts for this account.", details={"until": until.isoformat()})
        self.until = until


# Passwords -------------------------------------------------------------------------


def _argon2() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_KIB"],
        parallelism=config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method == ARGON2:
        return _argon2().hash(password)
    return generate_password_hash(password, method=method)


def verify_password(stored: str, password: str) -> bool:
    if stored.startswith("$argon2"):
        try:
            return _argon2().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made by another method, or with weaker parameters, than configured."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method == ARGON2:
        return not stored.startswith("$argon2id$") or _argon2().check_needs_rehash(stored)
    return not stored.startswith(method + "$") and not stored.startswith(method + ":")


def _dummy_hash() -> str:
    """Verifying against a fixed hash when the e-mail is unknown keeps the response
    time the same, so timing does not reveal which accounts exist."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = hash_password("not-a-real-password")
    return _DUMMY_HASHES[method]


_DUMMY_HASHES: dict[str, str] = {}


def audit_key(email: str) -> str:
    """The audit log's id for an account: its e-mail, shortened (still unique) to the column's 64 characters."""
    email = email.strip().lower()
    if len(email) <= 64:
        return email
    return f"{email[:47]}#{hashlib.sha256(email.encode()).hexdigest()[:16]}"


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(f"“{raw}” is not a valid e-mail address.", details={"email": str(exc)}) from exc


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationFailed(
            f"Unknown role “{role}”; choose one of {', '.join(Role.values())}.", details={"role": role}
        ) from None


def _check_password(password: str, email: str) -> None:
    if problem := password_problem(password, email=email):
        raise ValidationFailed(problem, details={"password": problem})


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.email)))


def create_user(*, email: str, name: str, role: str, password: str, actor: Actor) -> User:
    email = normalise_email(email)
    role = _check_role(role)
    _check_password(password, email)
    session = begin_write()
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(f"A user with the e-mail {email} already exists.", details={"email": email})
    user = User(
        email=email,
        name=name.strip() or email.split("@")[0],
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    session.add(user)
    session.flush()
    record_event("user", audit_key(email), "user_created", actor=actor, after=role)
    session.commit()
    return user


def change_role(user_id: int, role: str, *, actor: Actor) -> User:
    role = _check_role(role)
    session = begin_write()
    user = get_user(user_id)
    if user.role == role:
        return user
    _refuse_removing_last_admin(user, actor, "change the role of")
    before, user.role = user.role, role
    record_event("user", audit_key(user.email), "role_changed", actor=actor, before=before, after=role)
    session.commit()
    return user


def set_active(user_id: int, active: bool, *, actor: Actor) -> User:
    session = begin_write()
    user = get_user(user_id)
    if user.active == active:
        return user
    if not active:
        if actor.user_id == user.id:
            raise Conflict("You cannot deactivate your own account.")
        _refuse_removing_last_admin(user, actor, "deactivate")
        for token in user.tokens:
            if token.revoked_at is None:
                token.revoked_at = utcnow()
    user.active = active
    record_event("user", audit_key(user.email), "activated" if active else "deactivated", actor=actor)
    session.commit()
    return user


def set_password(user_id: int, password: str, *, actor: Actor) -> User:
    session = begin_write()
    user = get_user(user_id)
    _check_password(password, user.email)
    user.password_hash = hash_password(password)
    record_event("user", audit_key(user.email), "password_changed", actor=actor)
    session.commit()
    return user


def _refuse_removing_last_admin(user: User, actor: Actor, what: str) -> None:
    if user.role != Role.ADMIN or not user.active:
        return
    admins = db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True))
    )
    if admins <= 1:
        raise Conflict(f"You cannot {what} the last active admin; make someone else admin first.")


def authenticate(email: str, password: str) -> User | None:
    """The user if the e-mail and password match an active account, else None. Writes nothing."""
    user = find_by_email(email) if email else None
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


# Signing in: lockout, audit, hash upgrade ------------------------------------------


@dataclass(frozen=True)
class LockoutPolicy:
    attempts: int
    window: timedelta

    @classmethod
    def configured(cls) -> LockoutPolicy:
        config = current_app.config
        return cls(config["LOGIN_LOCKOUT_ATTEMPTS"], timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]))


# A sign-in, or an admin setting a new password, starts the failure count afresh.
_RESETS_FAILURES = ("login", "password_changed")


def locked_until(email: str, *, now: datetime | None = None) -> datetime | None:
    """When the account may try again, or None if it is not locked.

    Locked while `attempts` failures since the last sign-in fall inside the window;
    it opens when the oldest of those leaves it. Unknown e-mail addresses are counted
    the same way, so the lock does not reveal which accounts exist."""
    policy = LockoutPolicy.configured()
    now = now or utcnow()
    key = audit_key(email)
    mine = (Event.entity_type == "user", Event.entity_id == key)
    last_reset = db.session.scalar(select(func.max(Event.id)).where(*mine, Event.action.in_(_RESETS_FAILURES)))
    failures = db.session.scalars(
        select(Event.created_at)
        .where(*mine, Event.action == "login_failed", Event.id > (last_reset or 0),
               Event.created_at > now - policy.window)
        .order_by(Event.id.desc())
        .limit(policy.attempts)
    ).all()
    if len(failures) < policy.attempts:
        return None
    return failures[-1] + policy.window


def sign_in(email: str, password: str, *, client: str | None = None, now: datetime | None = None) -> User | None:
    """Check a sign-in attempt and audit it: the user, or None for a wrong e-mail or password.

    Raises AccountLocked without looking at the password while the account is locked."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    until = locked_until(email, now=now)
    if until is not None:
        session = begin_write()
        record_event("user", audit_key(email), "login_locked_out", actor=ANONYMOUS, at=now,
                     details={"client": client, "until": until.isoformat()})
        session.commit()
        raise AccountLocked(until)
    user = find_by_email(email) if email else None
    matches = verify_password(user.password_hash if user else _dummy_hash(), password)
    reason = "unknown_account" if user is None else (
        "wrong_password" if not matches else "inactive" if not user.active else None)
    user_id = user.id if user is not None else None
    session = begin_write()
    if reason is not None:
        record_event("user", audit_key(email), "login_failed", actor=ANONYMOUS, at=now,
                     details={"client": client, "reason": reason})
        session.commit()
        return None
    user = session.get(User, user_id)
    user.last_login_at = now
    details = {"client": client}
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        details["password_rehashed"] = True
    record_event("user", audit_key(user.email), "login", actor=Actor.for_user(user), at=now, details=details)
    session.commit()
    return user


def record_logout(user: User) -> None:
    session = begin_write()
    record_event("user", audit_key(user.email), "logout", actor=Actor.for_user(user))
    session.commit()


def _hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user_id: int, name: str, *, actor: Actor) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    session = begin_write()
    user = get_user(user_id)
    if not user.active:
        raise Conflict("An inactive user cannot get an API token.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=(name or "API token").strip()[:80],
        token_hash=_hash_token(plain),
        prefix=plain[:10],
    )
    session.add(token)
    session.flush()
    record_event("api_token", token.id, "token_issued", actor=actor, details={"user": user.email, "name": token.name})
    session.commit()
    return token, plain


def revoke_token(token_id: int, *, actor: Actor) -> ApiToken:
    session = begin_write()
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such API token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event("api_token", token.id, "token_revoked", actor=actor, details={"user": token.user.email})
    session.commit()
    return token


def user_for_token(plain: str) -> User | None:
    """The active user behind a bearer token, or None for unknown or revoked tokens."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user


def active_token_counts() -> dict[int, int]:
    """Unrevoked API tokens per user id, in one query (the admin list shows them per row)."""
    rows = db.session.execute(
        select(ApiToken.user_id, func.count()).where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id)
    )
    return {user_id: count for user_id, count in rows}
