"""Users, roles, logins and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.domain.errors import Conflict, NotFound, ValidationFailed
from app.domain.roles import Role
from app.extensions import db
from app.models import ApiToken, User
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.tx import begin_write

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "od_"  # noqa: S105  (a visible prefix, not a secret)



def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    """Verifying against a fixed hash when the e-mail is unknown keeps the response
    time the same, so timing does not reveal which accounts exist."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


_DUMMY_HASHES: dict[str, str] = {}


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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            details={"password": "too short"},
        )


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
    _check_password(password)
    session = begin_write()
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(f"A user with the e-mail {email} already exists.", details={"email": email})
    user = User(
        email=email,
        name=name.strip() or email.split("@")[0],
        role=role,
        password_hash=_hash_password(password),
        active=True,
    )
    session.add(user)
    session.flush()
    record_event("user", email, "user_created", actor=actor, after=role)
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
    record_event("user", user.email, "role_changed", actor=actor, before=before, after=role)
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
    record_event("user", user.email, "activated" if active else "deactivated", actor=actor)
    session.commit()
    return user


def set_password(user_id: int, password: str, *, actor: Actor) -> User:
    _check_password(password)
    session = begin_write()
    user = get_user(user_id)
    user.password_hash = _hash_password(password)
    record_event("user", user.email, "password_changed", actor=actor)
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
    """The user if the e-mail and password match an active account, else None."""
    user = find_by_email(email) if email else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def record_login(user: User, *, at: datetime | None = None) -> None:
    session = begin_write()
    user = session.get(User, user.id)
    user.last_login_at = at or utcnow()
    record_event("user", user.email, "login", actor=Actor.for_user(user))
    session.commit()


def record_logout(user: User) -> None:
    session = begin_write()
    record_event("user", user.email, "logout", actor=Actor.for_user(user))
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
