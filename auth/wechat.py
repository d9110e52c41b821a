"""WeChat mini-program login: code2session, then log in or bind with an invitation.

The phone sends the one-time `code` from `wx.login()`; we ask WeChat
(`GET {WECHAT_API_BASE}/sns/jscode2session`) for the openid. WeChat also returns a
`session_key`: we never need it, so it is dropped at once — never returned, stored or
logged. Neither is the app secret, which sits in the query string, so exceptions from
`requests` (their text contains the URL) are logged by class name only.

Error mapping (CONTRACT §1): 40029 / 40163 → 401 WECHAT_CODE_INVALID; −1, network
trouble, a timeout or an answer we cannot read → 503 WECHAT_UNAVAILABLE; 45011 → 429
RATE_LIMITED; 40226 → 403 WECHAT_USER_BLOCKED. Any other errcode means our own
configuration is wrong (bad appid/secret): logged as an error, 503 to the caller.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import invitations
from auth.models import User, WechatBinding
from auth.tokens import MAX_OPENID_LENGTH, decode_bind, issue_bind_token, start_session
from auth.users import me_dict
import coop.audit as audit
from coop.errors import Conflict, DomainError, Forbidden, ServiceUnavailable, Unauthorized
from coop.transaction import flush_or_conflict

log = logging.getLogger("auth.wechat")
# urllib3 logs each request line at DEBUG, and ours carries the app secret in its query:
# keep that logger above DEBUG even when LOG_LEVEL=DEBUG.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
PATH = "/sns/jscode2session"


@dataclass(frozen=True)
class WechatIdentity:
    """What we keep of a code2session answer (the session_key is deliberately absent)."""

    openid: str
    unionid: str | None = None


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("微信服务暂不可用，请稍后再试", code="WECHAT_UNAVAILABLE")


def _error_for(errcode) -> DomainError:
    if errcode in (40029, 40163):
        return Unauthorized("微信登录凭证无效或已使用，请重新进入小程序",
                            code="WECHAT_CODE_INVALID")
    if errcode == 45011:
        return DomainError("微信登录过于频繁，请稍后再试", status=429, code="RATE_LIMITED",
                           headers={"Retry-After": "60"})
    if errcode == 40226:
        return Forbidden("该微信账号已被微信限制登录", code="WECHAT_USER_BLOCKED")
    return _unavailable()


def code2session(code: str) -> WechatIdentity:
    """Exchange a wx.login() code for the openid (and unionid if WeChat gives one)."""
    cfg = current_app.config
    timeout = float(cfg["WECHAT_TIMEOUT_SECONDS"])
    params = {"appid": cfg["WECHAT_APPID"], "secret": cfg["WECHAT_SECRET"],
              "js_code": code, "grant_type": "authorization_code"}
    try:
        response = requests.get(cfg["WECHAT_API_BASE"].rstrip("/") + PATH, params=params,
                                timeout=(timeout, timeout))
        data = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        log.warning("wechat code2session failed", extra={"error": type(exc).__name__})
        raise _unavailable() from None
    if not isinstance(data, dict):
        log.warning("wechat code2session unreadable answer",
                    extra={"http_status": response.status_code})
        raise _unavailable()
    errcode = data.get("errcode", 0)
    if errcode not in (0, None):
        level = logging.WARNING if errcode in (-1, 40029, 40163, 45011, 40226) else logging.ERROR
        log.log(level, "wechat code2session error",
                extra={"errcode": errcode, "errmsg": str(data.get("errmsg", ""))[:200]})
        raise _error_for(errcode)
    openid, unionid = data.get("openid"), data.get("unionid")
    if not isinstance(openid, str) or not 0 < len(openid) <= MAX_OPENID_LENGTH:
        log.error("wechat code2session answer without a usable openid")
        raise _unavailable()
    if not isinstance(unionid, str) or not 0 < len(unionid) <= MAX_OPENID_LENGTH:
        unionid = None
    return WechatIdentity(openid=openid, unionid=unionid)


def _already_bound() -> Conflict:
    return Conflict("该微信账号已绑定", code="WECHAT_ALREADY_BOUND")


def _binding(session: Session, openid: str) -> WechatBinding | None:
    return session.execute(select(WechatBinding).where(WechatBinding.openid == openid)
                           ).scalar_one_or_none()


def _logged_in(session: Session, user: User, method: str) -> dict:
    pair = start_session(session, user, method)
    return {"bound": True, **pair, "user": me_dict(user)}


def login(session: Session, code: str) -> dict:
    """POST /auth/wechat/login: tokens for a bound openid, else a short-lived bind token."""
    identity = code2session(code)
    binding = _binding(session, identity.openid)
    if binding is None:
        token, lifetime = issue_bind_token(identity.openid, identity.unionid)
        return {"bound": False, "bind_token": token, "expires_in": lifetime}
    user = session.get(User, binding.user_id)
    if user is None or user.status != "active":
        raise Forbidden("该账户已停用", code="ACCOUNT_DISABLED")
    if identity.unionid and binding.unionid != identity.unionid:
        binding.unionid = identity.unionid
    return _logged_in(session, user, "wechat")


def bind(session: Session, bind_token: str, invite_code: str) -> dict:
    """POST /auth/wechat/bind: tie the bind token's openid to the invitation's person and
    log in. The code is spent only if the binding is written (one transaction)."""
    claims = decode_bind(bind_token)
    openid = claims["sub"]
    if _binding(session, openid) is not None:
        raise _already_bound()
    invitation = invitations.consume(session, invite_code)
    user = invitations.user_for(session, invitation)
    invitation.used_by_id = user.id
    binding = WechatBinding(openid=openid, unionid=claims.get("uid"), user_id=user.id)
    session.add(binding)
    flush_or_conflict(session, _already_bound())
    audit.record(session, user, "wechat.bind", "user", user.id,
                 after={"invitation_id": invitation.id, "binding_id": binding.id})
    return _logged_in(session, user, "wechat_bind")
