"""The WeChat server side of subscribe messages: the access token and subscribeMessage.send.

The access token comes from `POST /cgi-bin/stable_token`, never from the old
`GET /cgi-bin/token`: each call of that one issues a new token and kills the one every
other worker and server is using. The token lives in one database row per appid
(`wechat_access_tokens`, encrypted), so every process shares it: a process that finds it
fresh uses it; one that finds it due takes the row's lock, looks again (another process
may have renewed it meanwhile) and only then asks WeChat. So of N processes starting at
once, one fetches. It is renewed ahead of its expiry, and once when WeChat answers
40001/42001/40014 for it (renewed only if the row still holds the refused token: a
second worker refused the same token finds the new one). The token and the app secret
travel in URLs and bodies: exceptions from `requests` are logged by class name only, and
nothing here logs a token.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import coop.clock as clock
import coop.crypto as crypto
from coop.notifications.models import WechatAccessToken
from coop.transaction import unit_of_work

log = logging.getLogger("coop.notifications.wechat")
# urllib3 logs each request line at DEBUG, and ours carry the token in the query string.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/subscribe/send"
TOKEN_REFUSED = (40001, 42001, 40014)      # invalid, expired, malformed access token
NO_QUOTA = 43101                           # the user accepted no (more) message
# Worth another try later: WeChat busy (-1), frequency and daily API limits.
TRANSIENT_ERRCODES = (-1, 45009, 45011, 45047)
DEFAULT_MARGIN_SECONDS = 300


@dataclass
class WechatError(Exception):
    """A call that did not succeed: `errcode` from WeChat, or None for network trouble
    or an answer we could not read (`detail` says which, without any secret)."""

    errcode: int | None
    detail: str

    @property
    def transient(self) -> bool:
        return self.errcode is None or self.errcode in TRANSIENT_ERRCODES


def _post(path: str, body: dict, params: dict | None = None) -> dict:
    cfg = current_app.config
    timeout = float(cfg["WECHAT_TIMEOUT_SECONDS"])
    try:
        response = requests.post(cfg["WECHAT_API_BASE"].rstrip("/") + path, params=params,
                                 json=body, timeout=(timeout, timeout))
        data = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        log.warning("wechat call failed", extra={"path": path, "error": type(exc).__name__})
        raise WechatError(None, type(exc).__name__) from None
    if not isinstance(data, dict):
        log.warning("wechat unreadable answer",
                    extra={"path": path, "http_status": response.status_code})
        raise WechatError(None, f"http {response.status_code}")
    errcode = data.get("errcode") or 0
    if errcode:
        try:
            errcode = int(errcode)
        except (TypeError, ValueError):
            raise WechatError(None, "unreadable errcode") from None
        log.warning("wechat error", extra={"path": path, "errcode": errcode,
                                           "errmsg": str(data.get("errmsg", ""))[:200]})
        raise WechatError(errcode, str(data.get("errmsg", ""))[:200])
    return data


def fetch_stable_token(force_refresh: bool) -> tuple[str, int]:
    """(token, seconds it lives) from WeChat. `force_refresh` only after WeChat refused
    the token: it is limited per day, and makes the previous token die in 5 minutes."""
    cfg = current_app.config
    data = _post(TOKEN_PATH, {"grant_type": "client_credential", "appid": cfg["WECHAT_APPID"],
                              "secret": cfg["WECHAT_SECRET"], "force_refresh": force_refresh})
    token, lifetime = data.get("access_token"), data.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(lifetime, int) \
            or lifetime <= 0:
        raise WechatError(None, "stable_token answer without a token")
    return token, lifetime


def _usable(row: WechatAccessToken | None, refused: str | None, now) -> str | None:
    """The stored token if it may be used now: not due for renewal, and not the one
    WeChat just refused (a token renewed by another worker is fine until it expires)."""
    if row is None or not row.token_enc or row.expires_at is None or now >= row.expires_at:
        return None
    token = crypto.decrypt(row.token_enc)
    if refused is not None:
        return None if token == refused else token
    return token if row.renew_at is not None and now < row.renew_at else None


def access_token(refused: str | None = None) -> str:
    """The shared access token; `refused` is one WeChat just answered 40001/42001 for."""
    appid = current_app.config["WECHAT_APPID"]
    with unit_of_work() as session:
        token = _usable(session.get(WechatAccessToken, appid), refused, clock.now())
        if token is not None:
            return token
        exists = session.get(WechatAccessToken, appid) is not None
    if not exists:
        _create_row(appid)
    with unit_of_work() as session:
        row = _lock(session, appid)
        now = clock.now()
        token = _usable(row, refused, now)
        if token is not None:          # another process renewed it while we waited
            return token
        token, lifetime = fetch_stable_token(force_refresh=refused is not None)
        margin = int(current_app.config.get("WECHAT_TOKEN_MARGIN_SECONDS",
                                            DEFAULT_MARGIN_SECONDS))
        # Renew `margin` ahead of expiry; a token that has less left than twice that
        # (stable_token hands out the current one until it expires) at half its life.
        ahead = lifetime - margin if lifetime > 2 * margin else lifetime // 2
        row.token_enc = crypto.encrypt(token)
        row.expires_at = now + timedelta(seconds=lifetime)
        row.renew_at = now + timedelta(seconds=ahead)
        row.fetched_at = now
        row.fetch_count = (row.fetch_count or 0) + 1
        log.info("wechat access token renewed",
                 extra={"forced": refused is not None, "expires_in": lifetime})
        return token


def _create_row(appid: str) -> None:
    """The appid's row, written once; a process that loses the race to insert it moves on."""
    try:
        with unit_of_work() as session:
            session.add(WechatAccessToken(appid=appid, fetch_count=0))
    except IntegrityError:
        pass


def _lock(session, appid: str) -> WechatAccessToken:
    """The row, locked until the unit of work ends: SELECT … FOR UPDATE on MySQL; on
    SQLite (which ignores FOR UPDATE) a no-op UPDATE takes the database's write lock."""
    if session.connection().dialect.name == "sqlite":
        session.execute(update(WechatAccessToken).where(WechatAccessToken.appid == appid)
                        .values(fetch_count=WechatAccessToken.fetch_count)
                        .execution_options(synchronize_session=False))
    return session.execute(select(WechatAccessToken).where(WechatAccessToken.appid == appid)
                           .with_for_update().execution_options(populate_existing=True)
                           ).scalar_one()


def send_message(openid: str, template_id: str, data: dict, page: str | None) -> None:
    """subscribeMessage.send; raises WechatError. A refused token is renewed once and the
    message tried once more with the new one."""
    cfg = current_app.config
    body = {"touser": openid, "template_id": template_id, "data": data,
            "miniprogram_state": cfg.get("WECHAT_MINIPROGRAM_STATE", "formal"),
            "lang": "zh_CN"}
    if page:
        body["page"] = page
    token = access_token()
    try:
        _post(SEND_PATH, body, params={"access_token": token})
    except WechatError as exc:
        if exc.errcode not in TOKEN_REFUSED:
            raise
        _post(SEND_PATH, body, params={"access_token": access_token(refused=token)})
