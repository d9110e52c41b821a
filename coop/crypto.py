"""Field encryption for ID-card and bank-account numbers.

Values are encrypted with Fernet (AES-128-CBC + HMAC, from `cryptography`) under a key
derived from FIELD_ENCRYPTION_KEY; uniqueness is enforced on a keyed HMAC ("blind index")
so the database can refuse a duplicate without ever holding the number in clear.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


@lru_cache(maxsize=8)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    def derive(label: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(
            secret.encode("utf-8"))
    fernet = Fernet(base64.urlsafe_b64encode(derive(b"coop field encryption v1")))
    return fernet, derive(b"coop blind index v1")


def _secret() -> str:
    return current_app.config["FIELD_ENCRYPTION_KEY"]


def encrypt(plain: str) -> str:
    """Encrypt text; the token is ASCII and fits a String(255) column for short values."""
    return _keys(_secret())[0].encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _keys(_secret())[0].decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("field cannot be decrypted with the configured key") from exc


def blind_index(plain: str) -> str:
    """Keyed hash used for uniqueness and exact lookups."""
    return hmac.new(_keys(_secret())[1], plain.upper().encode("utf-8"),
                    hashlib.sha256).hexdigest()


def mask_id_card(number: str) -> str:
    """370123********1234: region and last four, as the contract shows."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_account(number: str) -> str:
    """Bank account: last four only."""
    return "*" * max(0, len(number) - 4) + number[-4:]


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 张三 → 张*: the public-notice form."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "*" * len(phone)
