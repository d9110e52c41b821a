"""JWT claims parsed strictly (issue 20, item 10): a signed token is still refused when
its `sub`/`fam` is not a row id as we write it, or when it would live longer than the
configured lifetime. Tokens are signed with the real key: what a leaked key, or a bug in
another issuer, could produce."""
from __future__ import annotations

import time

import pytest

from auth.tokens import issue_pair
from tests.auth.test_tokens import claims_of, craft

ME = "/api/v1/me"


@pytest.fixture
def signed(app, db, make):
    """(good claims of user 6's access token, a function that signs claims)."""
    users = [make.user("county_admin", make.county()) for _ in range(6)]
    pair = issue_pair(db.session, users[-1])
    db.session.commit()
    key = app.config["JWT_SECRET"].encode()
    return claims_of(pair["access_token"]), lambda claims: craft(claims, key)


def _get(client, token):
    return client.get(ME, headers={"Authorization": f"Bearer {token}"})


def test_the_genuine_claims_are_accepted(client, signed):
    good, sign = signed
    assert _get(client, sign(good)).status_code == 200


@pytest.mark.parametrize("sub", ["０{id}", "{arabic}", "0{id}", "+{id}", " {id}", "{id}.0",
                                 "9" * 25, str(2**63), "-1", "0", ""])
def test_sub_must_be_the_ascii_row_id(client, signed, sub):
    good, sign = signed
    arabic = "".join(chr(0x660 + int(d)) for d in good["sub"])
    token = sign({**good, "sub": sub.format(id=good["sub"], arabic=arabic)})
    response = _get(client, token)
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["code"] == "TOKEN_INVALID"


@pytest.mark.parametrize("fam", [True, "{fam}", 2**70, -1, 0, 1.0, None])
def test_fam_must_be_an_integer_row_id(client, signed, fam):
    good, sign = signed
    value = fam.format(fam=good["fam"]) if isinstance(fam, str) else fam
    response = _get(client, sign({**good, "fam": value}))
    assert response.status_code == 401, response.get_json()


def test_a_token_living_longer_than_configured_is_refused(client, app, signed):
    good, sign = signed
    now = int(time.time())
    lifetime = app.config["JWT_ACCESS_SECONDS"]
    assert _get(client, sign({**good, "iat": now, "exp": now + lifetime})).status_code == 200
    year_long = sign({**good, "iat": now, "exp": now + 365 * 24 * 3600})
    response = _get(client, year_long)
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["code"] == "TOKEN_INVALID"
