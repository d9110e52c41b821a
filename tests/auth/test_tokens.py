"""The JWT attack list (RFC 8725): every forged, stale or misused token → 401 + code."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from tests.auth.conftest import PASSWORD, bearer, login

ME = "/api/v1/me"
# What an attacker would use after reading a "public key" they hoped we verify with.
PUBLIC_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEl1X8mMiOQ3pGZJYQJ4PbDLwV8v0L\n"
    "0R1vOVk1PwXb4cGvKq0R4y2yQ9x8yJXHq2HhKk9n6Zr3vXU8Yh8HbWcRfA==\n"
    "-----END PUBLIC KEY-----\n"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(claims: dict, key: bytes | None, header: dict | None = None) -> str:
    """Build a JWT by hand, so nothing in a library can refuse to make the bad ones."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(),
                                                 hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def secret(app) -> bytes:
    return app.config["JWT_SECRET"].encode()


def assert_401(response, code: str) -> None:
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code


def test_a_genuine_access_token_is_accepted(client, admin_tokens):
    response = client.get(ME, headers=bearer(admin_tokens["access_token"]))
    assert response.status_code == 200
    assert response.get_json()["phone"] == "15000000001"


def test_no_token_is_auth_required(client, db):
    assert_401(client.get(ME), "AUTH_REQUIRED")
    assert_401(client.get(ME, headers={"Authorization": "Basic abc"}), "AUTH_REQUIRED")


@pytest.mark.parametrize("attack", [
    "alg_none", "alg_none_signed", "hs256_with_public_key", "rs256_header", "wrong_key",
    "tampered_payload", "missing_exp", "missing_jti", "missing_typ", "wrong_aud",
    "wrong_iss", "not_a_jwt",
])
def test_forged_access_tokens_are_refused(client, admin_tokens, secret, make, county, attack):
    good = claims_of(admin_tokens["access_token"])
    other = make.user("county_admin", county)
    forged = {
        "alg_none": lambda: craft(good, None, {"alg": "none", "typ": "JWT"}),
        "alg_none_signed": lambda: craft(good, secret, {"alg": "none", "typ": "JWT"}),
        "hs256_with_public_key": lambda: craft(good, PUBLIC_KEY_PEM.encode()),
        "rs256_header": lambda: craft(good, secret, {"alg": "RS256", "typ": "JWT"}),
        "wrong_key": lambda: craft(good, b"another-secret-that-is-long-enough-000000"),
        "tampered_payload": lambda: _tamper(admin_tokens["access_token"], sub=str(other.id)),
        "missing_exp": lambda: craft({k: v for k, v in good.items() if k != "exp"}, secret),
        "missing_jti": lambda: craft({k: v for k, v in good.items() if k != "jti"}, secret),
        "missing_typ": lambda: craft({k: v for k, v in good.items() if k != "typ"}, secret),
        "wrong_aud": lambda: craft({**good, "aud": "someone-else"}, secret),
        "wrong_iss": lambda: craft({**good, "iss": "https://evil.example"}, secret),
        "not_a_jwt": lambda: "not.a.jwt",
    }[attack]()
    assert_401(client.get(ME, headers=bearer(forged)), "TOKEN_INVALID")


def _tamper(token: str, **changes) -> str:
    """Change the payload but keep the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def test_hand_crafted_token_with_nothing_wrong_is_accepted(
        client, admin_tokens, secret):
    # Guards the attack tests above: the hand-made token is accepted when nothing is wrong.
    good = claims_of(admin_tokens["access_token"])
    assert client.get(ME, headers=bearer(craft(good, secret))).status_code == 200


def test_expired_access_token_is_token_expired(client, admin_tokens, secret):
    good = claims_of(admin_tokens["access_token"])
    now = int(time.time())
    expired = craft({**good, "iat": now - 3600, "exp": now - 60}, secret)
    assert_401(client.get(ME, headers=bearer(expired)), "TOKEN_EXPIRED")


def test_refresh_token_is_never_an_access_token(client, admin_tokens):
    assert_401(client.get(ME, headers=bearer(admin_tokens["refresh_token"])), "TOKEN_INVALID")


def test_access_token_is_never_a_refresh_token(client, admin_tokens):
    response = client.post("/api/v1/auth/refresh",
                           json={"refresh_token": admin_tokens["access_token"]})
    assert_401(response, "TOKEN_INVALID")


def test_refresh_rotates_and_the_old_refresh_token_is_spent(client, admin_tokens):
    first = client.post("/api/v1/auth/refresh",
                        json={"refresh_token": admin_tokens["refresh_token"]})
    assert first.status_code == 200
    pair = first.get_json()
    assert pair["refresh_token"] != admin_tokens["refresh_token"]
    assert pair["token_type"] == "Bearer" and pair["expires_in"] <= 900
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    # The new refresh token works in turn.
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert second.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client, admin_tokens):
    stolen = admin_tokens["refresh_token"]
    rotated = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen}).get_json()

    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen})
    assert_401(reuse, "REFRESH_REUSED")

    # Everything of that family is dead now: the newest pair and the original access token.
    assert_401(client.post("/api/v1/auth/refresh",
                           json={"refresh_token": rotated["refresh_token"]}), "TOKEN_INVALID")
    assert_401(client.get(ME, headers=bearer(rotated["access_token"])), "TOKEN_INVALID")
    assert_401(client.get(ME, headers=bearer(admin_tokens["access_token"])), "TOKEN_INVALID")


def test_reuse_revokes_only_that_family(client, admin, admin_tokens):
    other_login = login(client, admin.phone).get_json()
    client.post("/api/v1/auth/refresh", json={"refresh_token": admin_tokens["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": admin_tokens["refresh_token"]})
    assert client.get(ME, headers=bearer(other_login["access_token"])).status_code == 200


def test_access_token_fails_at_once_after_logout(client, admin_tokens):
    access = bearer(admin_tokens["access_token"])
    assert client.get(ME, headers=access).status_code == 200
    response = client.post("/api/v1/auth/logout",
                           json={"refresh_token": admin_tokens["refresh_token"]})
    assert response.status_code == 204
    assert_401(client.get(ME, headers=access), "TOKEN_INVALID")
    assert_401(client.post("/api/v1/auth/refresh",
                           json={"refresh_token": admin_tokens["refresh_token"]}),
               "TOKEN_INVALID")
    # Logging out twice is harmless.
    again = client.post("/api/v1/auth/logout", json={"refresh_token": admin_tokens["refresh_token"]})
    assert again.status_code == 204


def test_logout_with_a_forged_refresh_token_is_refused(client, admin_tokens, secret):
    good = claims_of(admin_tokens["refresh_token"])
    forged = craft({**good, "jti": "x" * 32}, secret)  # well signed, but never issued
    assert_401(client.post("/api/v1/auth/logout", json={"refresh_token": forged}),
               "TOKEN_INVALID")
    assert client.get(ME, headers=bearer(admin_tokens["access_token"])).status_code == 200


def test_tokens_stop_after_a_password_change(client, admin, admin_tokens):
    second_device = login(client, admin.phone).get_json()
    response = client.post("/api/v1/me/password", headers=bearer(admin_tokens["access_token"]),
                           json={"old_password": PASSWORD, "new_password": "a-new-password-1"})
    assert response.status_code == 204
    for tokens in (admin_tokens, second_device):
        assert_401(client.get(ME, headers=bearer(tokens["access_token"])), "TOKEN_INVALID")
        assert_401(client.post("/api/v1/auth/refresh",
                               json={"refresh_token": tokens["refresh_token"]}), "TOKEN_INVALID")
    assert login(client, admin.phone).status_code == 401
    assert login(client, admin.phone, "a-new-password-1").status_code == 200


def test_refresh_tokens_are_stored_hashed(client, db, admin_tokens):
    from auth.models import RefreshToken
    from auth.tokens import hash_token
    stored = db.session.execute(db.select(RefreshToken.token_hash)).scalars().all()
    assert admin_tokens["refresh_token"] not in stored
    assert hash_token(admin_tokens["refresh_token"]) in stored


def test_access_token_lifetime_is_at_most_15_minutes(admin_tokens):
    claims = claims_of(admin_tokens["access_token"])
    assert claims["exp"] - claims["iat"] <= 15 * 60
    refresh = claims_of(admin_tokens["refresh_token"])
    assert refresh["exp"] - refresh["iat"] <= 30 * 24 * 3600
    assert {"iss", "aud", "sub", "iat", "exp", "jti", "typ"} <= claims.keys()


def test_disabled_user_tokens_stop(client, db, admin, admin_tokens):
    admin.status = "disabled"
    db.session.commit()
    assert_401(client.get(ME, headers=bearer(admin_tokens["access_token"])), "TOKEN_INVALID")
    assert_401(client.post("/api/v1/auth/refresh",
                           json={"refresh_token": admin_tokens["refresh_token"]}),
               "TOKEN_INVALID")
