"""JWT access and refresh tokens (CONTRACT §1, RFC 8725).

HS256 only, with the key used as given; every token must carry exp, iat, iss, aud, sub,
jti and typ, and `typ` is checked so a refresh token is never taken as an access token.
Refresh tokens are also stored (hashed) in a token family so they rotate and can be
revoked; the access token names its family so revocation takes effect at once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import jwt
from flask import current_app
from sqlalchemy.orm import Session

from auth.models import RefreshToken, TokenFamily, User
from coop.dbtypes import utcnow
from coop.errors import Unauthorized

ALGORITHMS = ["HS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "typ"]


def _encode(claims: dict) -> str:
    cfg = current_app.config
    return jwt.encode(claims, cfg["JWT_SECRET"], algorithm=ALGORITHMS[0])


def _claims(user_id: int, typ: str, family_id: int, lifetime: int) -> dict:
    now = utcnow()
    cfg = current_app.config
    return {
        "iss": cfg["JWT_ISSUER"], "aud": cfg["JWT_AUDIENCE"], "sub": str(user_id),
        "iat": now, "exp": now + timedelta(seconds=lifetime), "jti": secrets.token_hex(16),
        "typ": typ, "fam": family_id,
    }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def decode(token: str, expected_typ: str) -> dict:
    """Verify signature, algorithm, required claims, issuer, audience and type."""
    cfg = current_app.config
    try:
        claims = jwt.decode(
            token, cfg["JWT_SECRET"], algorithms=ALGORITHMS, audience=cfg["JWT_AUDIENCE"],
            issuer=cfg["JWT_ISSUER"], options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("登录已过期，请重新登录", code="TOKEN_EXPIRED") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID") from exc
    if claims.get("typ") != expected_typ or not isinstance(claims.get("fam"), int):
        raise Unauthorized("登录凭证类型不正确", code="TOKEN_INVALID")
    if not str(claims["sub"]).isdigit():
        raise Unauthorized("登录凭证无效", code="TOKEN_INVALID")
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
