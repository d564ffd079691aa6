"""Signing in safely: account lockout after repeated failures, the password policy,
Argon2id hashing (and the upgrade of older hashes), API tokens at rest, and the audit
trail of every sign-in and account change."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from app.domain.errors import ValidationFailed
from app.models import ApiToken, Event, User
from app.models.base import utcnow
from app.services import users
from app.services.actors import Actor
from tests.conftest import PASSWORD

WRONG = "not-the-password-1"


@pytest.fixture
def lockout(app):
    """Three failures lock an account for ten minutes; the per-address limit is out of the way."""
    app.config.update(LOGIN_LOCKOUT_ATTEMPTS=3, LOGIN_LOCKOUT_MINUTES=10, LOGIN_RATE_LIMIT="1000 per minute")
    return app


def post_login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def events_for(db, email, *actions):
    query = select(Event).where(Event.entity_type == "user", Event.entity_id == email).order_by(Event.id)
    if actions:
        query = query.where(Event.action.in_(actions))
    return db.session.scalars(query).all()


# Lockout ---------------------------------------------------------------------------


def test_account_locks_after_repeated_failures_and_says_when_to_try_again(lockout, client, make_user):
    user = make_user("ops")
    for _ in range(3):
        assert post_login(client, user.email, WRONG).status_code == 401
    locked = post_login(client, user.email, PASSWORD)  # even the right password is refused now
    assert locked.status_code == 429
    message = re.search(r'<p class="field-error" role="alert">([^<]+)</p>', locked.text).group(1)
    assert "Too many failed sign-in attempts for this account" in message
    assert re.search(r"Try again after \d\d:\d\d \((9|10) min from now\)", message), message
    assert client.get("/").status_code == 302  # not signed in


def test_the_lock_time_is_shown_in_the_configured_timezone(lockout, client, make_user, db):
    lockout.config["TIMEZONE"] = "Asia/Kolkata"  # UTC+05:30: the minutes differ from UTC's
    user = make_user("ops")
    for _ in range(3):
        post_login(client, user.email, WRONG)
    locked = post_login(client, user.email, WRONG)
    until = users.locked_until(user.email)
    assert f"Try again after {until.astimezone(ZoneInfo('Asia/Kolkata')):%H:%M}" in locked.text


def test_other_accounts_are_not_affected(lockout, client, make_user):
    victim, other = make_user("ops"), make_user("ops")
    for _ in range(3):
        post_login(client, victim.email, WRONG)
    assert post_login(client, other.email, PASSWORD).status_code == 302


def test_the_lock_opens_when_the_failures_leave_the_window(lockout, make_user):
    user = make_user("ops")
    start = utcnow()
    for minute in range(3):
        assert users.sign_in(user.email, WRONG, now=start + timedelta(minutes=minute)) is None
    with pytest.raises(users.AccountLocked) as locked:
        users.sign_in(user.email, PASSWORD, now=start + timedelta(minutes=5))
    # Locked until the oldest failure is ten minutes old; attempts while locked do not extend it.
    assert locked.value.until == start + timedelta(minutes=10)
    with pytest.raises(users.AccountLocked) as still:
        users.sign_in(user.email, PASSWORD, now=start + timedelta(minutes=9, seconds=59))
    assert still.value.until == start + timedelta(minutes=10)
    assert users.sign_in(user.email, PASSWORD, now=start + timedelta(minutes=10, seconds=1)).id == user.id


def test_a_successful_sign_in_starts_the_count_afresh(lockout, make_user):
    user = make_user("ops")
    now = utcnow()
    for _ in range(2):
        users.sign_in(user.email, WRONG, now=now)
    assert users.sign_in(user.email, PASSWORD, now=now) is not None
    for _ in range(2):
        users.sign_in(user.email, WRONG, now=now)
    assert users.locked_until(user.email, now=now) is None
    assert users.sign_in(user.email, PASSWORD, now=now) is not None


def test_an_admin_setting_a_new_password_unlocks_the_account(lockout, client, make_user):
    user = make_user("ops")
    for _ in range(3):
        post_login(client, user.email, WRONG)
    assert post_login(client, user.email, PASSWORD).status_code == 429
    admin = make_user("admin")
    users.set_password(user.id, "a-fresh-password-7", actor=Actor.for_user(admin))
    assert post_login(client, user.email, "a-fresh-password-7").status_code == 302


def test_unknown_addresses_lock_the_same_way_so_the_lock_reveals_no_account(lockout, client):
    for _ in range(3):
        assert post_login(client, "nobody@example.com", WRONG).status_code == 401
    assert post_login(client, "nobody@example.com", WRONG).status_code == 429


def test_the_lock_is_built_from_the_audited_failures(lockout, client, make_user, db):
    user = make_user("ops")
    for _ in range(3):
        post_login(client, user.email, WRONG)
    post_login(client, user.email, PASSWORD)
    failed = events_for(db, user.email, "login_failed")
    assert [e.details["reason"] for e in failed] == ["wrong_password"] * 3
    assert all(e.details["client"] == "127.0.0.1" and e.actor == "anonymous" for e in failed)
    assert [e.action for e in events_for(db, user.email, "login_locked_out")] == ["login_locked_out"]
    # Deleting the failures (what an admin would do to unlock by hand) unlocks the account.
    db.session.execute(text("DELETE FROM events WHERE action = 'login_failed'"))
    db.session.commit()
    assert post_login(client, user.email, PASSWORD).status_code == 302


def test_inactive_accounts_fail_like_wrong_passwords(lockout, client, make_user, db):
    user = make_user("ops")
    db.session.get(User, user.id).active = False
    db.session.commit()
    response = post_login(client, user.email, PASSWORD)
    assert response.status_code == 401
    assert "That e-mail and password do not match an active account." in response.text
    assert events_for(db, user.email, "login_failed")[-1].details["reason"] == "inactive"


# Password policy ---------------------------------------------------------------------


@pytest.mark.parametrize(("password", "problem"), [
    ("short-pw-1", "at least 12 characters"),
    ("x" * 201, "at most 200 characters"),
    ("Password1234", "first that attackers try"),
    ("qwerty123456", "first that attackers try"),
    ("!!password2024!!", "first that attackers try"),
    ("aaaaaaaaaaaaaaaa", "repeats the same characters"),
    ("abababababababab", "repeats the same characters"),
    ("abcdefghijklmnop", "simple sequence"),
    ("0987654321098", "simple sequence"),
])
def test_weak_passwords_are_refused_with_the_reason(app, password, problem):
    with pytest.raises(ValidationFailed) as refused:
        users.create_user(email="weak@example.com", name="W", role="ops", password=password, actor=Actor.cli())
    assert problem in refused.value.message
    assert users.find_by_email("weak@example.com") is None


def test_the_email_address_is_not_a_password(app, make_user):
    with pytest.raises(ValidationFailed, match="must not be the e-mail address"):
        users.create_user(email="dana.long@example.com", name="D", role="ops", password="Dana.Long@Example.com",
                          actor=Actor.cli())
    with pytest.raises(ValidationFailed, match="must not be the e-mail address"):
        users.create_user(email="dana.longname@example.com", name="D", role="ops", password="dana.longname",
                          actor=Actor.cli())
    user = make_user("ops", email="sam.example.person@example.com")
    with pytest.raises(ValidationFailed, match="must not be the e-mail address"):
        users.set_password(user.id, "sam.example.person@example.com", actor=Actor.cli())


def test_admin_forms_show_the_policy_next_to_the_field(login, make_user):
    admin = login("admin")
    created = admin.post("/admin/users", data={"email": "n@example.com", "role": "ops", "password": "password1234"})
    assert created.status_code == 422
    assert "one of the first that attackers try" in created.text
    person = make_user("ops")
    changed = admin.post(f"/admin/users/{person.id}/password", data={"password": person.email})
    assert changed.status_code == 422
    assert "must not be the e-mail address" in changed.text


def test_a_long_passphrase_is_accepted(app):
    user = users.create_user(email="pass.phrase@example.com", name="P", role="ops",
                             password="correct horse battery staple", actor=Actor.cli())
    assert users.authenticate("pass.phrase@example.com", "correct horse battery staple").id == user.id


# Hashing -------------------------------------------------------------------------------


@pytest.fixture
def argon2id(app):
    app.config["PASSWORD_HASH_METHOD"] = "argon2id"
    return app


def test_new_passwords_are_hashed_with_argon2id_at_owasp_parameters(argon2id, client, make_user):
    user = make_user("ops")
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in user.password_hash
    assert post_login(client, user.email, PASSWORD).status_code == 302
    assert post_login(argon2id.test_client(), user.email, WRONG).status_code == 401


def test_production_default_is_argon2id():
    from config import Config, ProductionConfig

    assert Config.PASSWORD_HASH_METHOD == ProductionConfig.PASSWORD_HASH_METHOD == "argon2id"
    assert Config.ARGON2_MEMORY_KIB >= 19 * 1024 and Config.ARGON2_TIME_COST >= 2
    assert Config.ARGON2_PARALLELISM >= 1


@pytest.mark.parametrize("old_method", ["scrypt", "pbkdf2:sha256:600000"])
def test_werkzeug_hashes_still_verify_and_are_upgraded_at_the_next_sign_in(argon2id, client, db, make_user,
                                                                          old_method):
    from werkzeug.security import generate_password_hash

    user = make_user("ops")
    db.session.get(User, user.id).password_hash = generate_password_hash(PASSWORD, method=old_method)
    db.session.commit()

    assert post_login(client, user.email, WRONG).status_code == 401
    assert db.session.get(User, user.id).password_hash.startswith(old_method.split(":")[0])  # not on a failure

    assert post_login(client, user.email, PASSWORD).status_code == 302
    db.session.expire_all()
    upgraded = db.session.get(User, user.id).password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert events_for(db, user.email, "login")[-1].details["password_rehashed"] is True
    assert post_login(argon2id.test_client(), user.email, PASSWORD).status_code == 302


def test_weaker_argon2_parameters_are_upgraded_too(argon2id, client, db, make_user):
    argon2id.config["ARGON2_MEMORY_KIB"] = 8192
    user = make_user("ops")
    assert "m=8192" in user.password_hash
    argon2id.config["ARGON2_MEMORY_KIB"] = 19456
    assert post_login(client, user.email, PASSWORD).status_code == 302
    db.session.expire_all()
    assert "m=19456" in db.session.get(User, user.id).password_hash


# API tokens --------------------------------------------------------------------------


def test_api_tokens_are_stored_hashed_shown_once_and_revocable(app, db, make_user):
    user = make_user("ops")
    token, plain = users.issue_token(user.id, "shop sync", actor=Actor.cli())
    assert plain.startswith("od_") and len(plain) > 40
    row = db.session.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token.id}).mappings().one()
    assert plain not in [str(v) for v in row.values()]
    assert row["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert row["prefix"] == plain[:10]

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {plain}"}
    assert api.get("/api/v1/products", headers=bearer).status_code == 200
    # Nothing hands the token out again: not the model, not the admin page.
    assert not any(plain in str(getattr(token, c.key)) for c in ApiToken.__table__.columns)

    users.revoke_token(token.id, actor=Actor.cli())
    refused = api.get("/api/v1/products", headers=bearer)
    assert refused.status_code == 401 and refused.json["error"] == "unauthorized"
    assert users.user_for_token(plain) is None


def test_a_token_that_differs_by_one_character_is_refused(app, make_user):
    user = make_user("ops")
    _, plain = users.issue_token(user.id, "t", actor=Actor.cli())
    tampered = plain[:-1] + ("A" if plain[-1] != "A" else "B")
    assert app.test_client().get("/api/v1/products", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


# The audit trail ---------------------------------------------------------------------


def test_every_sign_in_and_account_change_is_audited(app, db, login, make_user, client):
    admin = login("admin")
    created = admin.post("/admin/users", data={"email": "audit.me@example.com", "role": "ops",
                                                "password": "a-long-password-1"})
    assert created.status_code == 303
    person = users.find_by_email("audit.me@example.com")
    post_login(client, person.email, WRONG)
    post_login(client, person.email, "a-long-password-1")
    client.post("/logout")
    admin.post(f"/admin/users/{person.id}/role", data={"role": "finance"})
    admin.post(f"/admin/users/{person.id}/password", data={"password": "another-long-pass-2"})
    admin.post(f"/admin/users/{person.id}/tokens", data={"name": "sync"})
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == person.id))
    admin.post(f"/admin/users/{person.id}/tokens/{token_id}/revoke")
    admin.post(f"/admin/users/{person.id}/deactivate")
    admin.post(f"/admin/users/{person.id}/activate")

    trail = [(e.action, e.from_state, e.to_state, e.actor) for e in events_for(db, person.email)]
    by_admin = f"user:{admin.user.email}"
    assert trail == [
        ("user_created", None, "ops", by_admin),
        ("login_failed", None, None, "anonymous"),
        ("login", None, None, f"user:{person.email}"),
        ("logout", None, None, f"user:{person.email}"),
        ("role_changed", "ops", "finance", by_admin),
        ("password_changed", None, None, by_admin),
        ("deactivated", None, None, by_admin),
        ("activated", None, None, by_admin),
    ]
    token_events = db.session.scalars(
        select(Event).where(Event.entity_type == "api_token", Event.entity_id == str(token_id)).order_by(Event.id)
    ).all()
    assert [(e.action, e.actor, e.details["user"]) for e in token_events] == [
        ("token_issued", by_admin, person.email), ("token_revoked", by_admin, person.email)]


def test_accounts_with_long_addresses_are_audited_too(app, db, client):
    email = "a.very.long.mailbox.name.for.testing.the.audit.log@subdomain.example.com"
    assert len(email) > 64
    users.create_user(email=email, name="Long", role="ops", password=PASSWORD, actor=Actor.cli())
    assert post_login(client, email, PASSWORD).status_code == 302
    key = users.audit_key(email)
    assert len(key) == 64 and key.startswith(email[:40])
    assert [e.action for e in events_for(db, key)] == ["user_created", "login"]
