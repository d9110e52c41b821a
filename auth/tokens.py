"""JWT access, refresh and bind tokens (CONTRACT §1, RFC 8725).

HS256 only, with the key used as given; every token must carry exp, iat, iss, aud, sub,
jti and typ, and `typ` is checked so a refresh token is never taken as an access token
(nor a WeChat bind token as either).
Refresh tokens are also stored (hashed) in a token family so they rotate and can be
revoked; the access token names its family (`fam`) so revocation takes effect at once:
the policy layer checks the family on every request.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import jwt
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auth.models import RefreshToken, TokenFamily, User
import coop.audit as audit
from coop.dbtypes import MAX_ID, utcnow
from coop.errors import Unauthorized

ALGORITHMS = ["HS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "typ"]
BIND = "bind"
MAX_OPENID_LENGTH = 64
LEEWAY_SECONDS = 5
# A row id as we write it in `sub`: ASCII digits, no sign, no leading zero. str.isdigit()
# and int() also take "０６" and "٦" (user 6) and digits past BIGINT.
_ROW_ID = re.compile(r"[1-9][0-9]{0,18}\Z")
LIFETIME_SETTING = {"access": "JWT_ACCESS_SECONDS", "refresh": "JWT_REFRESH_SECONDS"}


def _encode(claims: dict) -> str:
    cfg = current_app.config
    return jwt.encode(claims, cfg["JWT_SECRET"], algorithm=ALGORITHMS[0])


def _base_claims(subject: str, typ: str, lifetime: int) -> dict:
    now = utcnow()
    cfg = current_app.config
    return {
        "iss": cfg["JWT_ISSUER"], "aud": cfg["JWT_AUDIENCE"], "sub": subject,
        "iat": now, "exp": now + timedelta(seconds=lifetime), "jti": secrets.token_hex(16),
        "typ": typ,
    }


def _claims(user_id: int, typ: str, family_id: int, lifetime: int) -> dict:
    return {**_base_claims(str(user_id), typ, lifetime), "fam": family_id}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _verified(token: str) -> dict:
    """Signature, algorithm, required claims, issuer and audience; not yet the type."""
    cfg = current_app.config
    if not isinstance(token, str) or not token:
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID")
    try:
        return jwt.decode(
            token, cfg["JWT_SECRET"], algorithms=ALGORITHMS, audience=cfg["JWT_AUDIENCE"],
            issuer=cfg["JWT_ISSUER"], options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("登录已过期，请重新登录", code="TOKEN_EXPIRED") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID") from exc


def _check_lifetime(claims: dict, lifetime: int) -> None:
    """A token that would live longer than we issue any (a key leaked to a tool that
    mints year-long tokens, a forged `exp`) is refused, whatever its signature."""
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (iat, exp)) \
            or exp - iat > lifetime + LEEWAY_SECONDS:
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID")


def row_id(value) -> int | None:
    """A `sub` or `fam` claim as a row id, or None: a JSON integer or a string of ASCII
    digits (no sign, no leading zero), 1..BIGINT max — never a bool, "０６" or "٦"."""
    if type(value) is int:
        return value if 1 <= value <= MAX_ID else None
    if isinstance(value, str) and _ROW_ID.match(value):
        number = int(value)
        return number if number <= MAX_ID else None
    return None


def decode(token: str, expected_typ: str) -> dict:
    """Verify an access or refresh token and that it is of the expected type; `sub` and
    `fam` are row ids (`row_id`), so whoever reads them may `int()` them."""
    claims = _verified(token)
    if claims.get("typ") != expected_typ or expected_typ not in LIFETIME_SETTING:
        raise Unauthorized("登录凭证类型不正确", code="TOKEN_INVALID")
    if not isinstance(claims["sub"], str) or row_id(claims["sub"]) is None \
            or type(claims.get("fam")) is not int or row_id(claims["fam"]) is None:
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID")
    _check_lifetime(claims, int(current_app.config[LIFETIME_SETTING[expected_typ]]))
    return claims


def issue_pair(session: Session, user: User, family: TokenFamily | None = None) -> dict:
    """Start (or continue) a token family and return the login response body.

    The caller commits. A new family is created for a fresh login; rotation passes the
    existing family.
    """
    cfg = current_app.config
    if family is None:
        family = TokenFamily(user_id=user.id)
        session.add(family)
        session.flush()
    access = _encode(_claims(user.id, "access", family.id, cfg["JWT_ACCESS_SECONDS"]))
    refresh_claims = _claims(user.id, "refresh", family.id, cfg["JWT_REFRESH_SECONDS"])
    refresh = _encode(refresh_claims)
    session.add(RefreshToken(family_id=family.id, token_hash=hash_token(refresh),
                             expires_at=refresh_claims["exp"]))
    return {
        "access_token": access, "refresh_token": refresh, "token_type": "Bearer",
        "expires_in": cfg["JWT_ACCESS_SECONDS"],
    }


def start_session(session: Session, user: User, method: str) -> dict:
    """A fresh login (password, WeChat, binding): a new family and its first pair.

    Audited; the caller commits.
    """
    family = TokenFamily(user_id=user.id)
    session.add(family)
    session.flush()
    pair = issue_pair(session, user, family)
    audit.record(session, user, "auth.login", "token_family", family.id,
                 after={"user_id": user.id, "method": method})
    return pair


# --- rotation and revocation -------------------------------------------------------------

def revoke_family(session: Session, family_id: int, reason: str) -> bool:
    """Revoke one family (idempotent); True if this call revoked it."""
    result = session.execute(
        update(TokenFamily).where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason))
    return bool(result.rowcount)


def revoke_user_families(session: Session, user_id: int, reason: str) -> int:
    """Revoke every live family of a user (password change): all their tokens stop."""
    result = session.execute(
        update(TokenFamily).where(TokenFamily.user_id == user_id,
                                  TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason))
    return result.rowcount or 0


def _stored_refresh(session: Session, token: str, claims: dict):
    """The stored row of a verified refresh token and its family, locked; 401 if unknown."""
    row = session.execute(
        select(RefreshToken, TokenFamily)
        .join(TokenFamily, TokenFamily.id == RefreshToken.family_id)
        .where(RefreshToken.token_hash == hash_token(token))
        .with_for_update()
    ).first()
    if row is None or row.TokenFamily.id != claims["fam"] \
            or str(row.TokenFamily.user_id) != claims["sub"]:
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID")
    return row.RefreshToken, row.TokenFamily


def _reused(session: Session, family: TokenFamily) -> Unauthorized:
    """A spent refresh token came back: someone holds a copy. Kill the whole family."""
    if revoke_family(session, family.id, "refresh_reused"):
        audit.record(session, None, "auth.refresh_reused", "token_family", family.id,
                     after={"user_id": family.user_id, "revoked": True})
    return Unauthorized("刷新令牌已被使用，该登录已全部失效，请重新登录", code="REFRESH_REUSED",
                        keep_writes=True)


def rotate(session: Session, refresh_token: str) -> dict:
    """POST /auth/refresh: spend the presented refresh token and issue the next pair.

    A spent token presented again → 401 REFRESH_REUSED and the family is revoked, so
    both the thief's and the owner's tokens stop.
    """
    claims = decode(refresh_token, "refresh")
    stored, family = _stored_refresh(session, refresh_token, claims)
    if family.revoked_at is not None:
        raise Unauthorized("登录已失效，请重新登录", code="TOKEN_INVALID")
    if stored.spent_at is not None:
        raise _reused(session, family)
    user = session.get(User, family.user_id)
    if user is None or user.status != "active":
        raise Unauthorized("登录已失效，请重新登录", code="TOKEN_INVALID")
    # Conditional UPDATE: of two concurrent rotations of one token exactly one wins.
    spent = session.execute(
        update(RefreshToken).where(RefreshToken.id == stored.id,
                                   RefreshToken.spent_at.is_(None))
        .values(spent_at=utcnow())).rowcount
    if spent != 1:
        raise _reused(session, family)
    pair = issue_pair(session, user, family)
    audit.record(session, user, "auth.refresh", "token_family", family.id,
                 after={"user_id": user.id})
    return pair


def logout(session: Session, refresh_token: str) -> None:
    """POST /auth/logout: revoke the token's family; its access tokens fail at once.

    Idempotent: logging out of a family already revoked (or with an already rotated
    token of it) still answers 204.
    """
    claims = decode(refresh_token, "refresh")
    _, family = _stored_refresh(session, refresh_token, claims)
    if revoke_family(session, family.id, "logout"):
        audit.record(session, family.user_id, "auth.logout", "token_family", family.id,
                     after={"user_id": family.user_id, "revoked": True})


# --- WeChat bind tokens -------------------------------------------------------------------

def issue_bind_token(openid: str, unionid: str | None) -> tuple[str, int]:
    """A short-lived token naming an unbound openid, redeemed with an invitation code."""
    lifetime = int(current_app.config.get("WECHAT_BIND_TOKEN_SECONDS", 600))
    claims = _base_claims(openid, BIND, lifetime)
    if unionid:
        claims["uid"] = unionid
    return _encode(claims), lifetime


def decode_bind(token: str) -> dict:
    """Verify a bind token; `sub` is the openid, `uid` the unionid if WeChat gave one."""
    claims = _verified(token)
    _check_lifetime(claims, int(current_app.config.get("WECHAT_BIND_TOKEN_SECONDS", 600)))
    sub = claims.get("sub")
    if claims.get("typ") != BIND or not isinstance(sub, str) \
            or not 0 < len(sub) <= MAX_OPENID_LENGTH:
        raise Unauthorized("绑定凭证无效", code="TOKEN_INVALID")
    uid = claims.get("uid")
    if uid is not None and (not isinstance(uid, str) or len(uid) > MAX_OPENID_LENGTH):
        raise Unauthorized("绑定凭证无效", code="TOKEN_INVALID")
    return claims
