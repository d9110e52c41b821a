"""Invitation codes (邀请码): how a WeChat account is tied to a person, once.

Who issues what:
* a cooperative's coop_manager invites one of its **members** (POST /members/{id}/invitations):
  redeeming it gives a `member` role on that member record;
* a county_admin invites a **cooperative manager or commissioner** of their county by user
  (POST /users/{id}/invitations): redeeming it binds the WeChat account to that user;
* any logged-in user invites **themselves** (POST /me/invitations), e.g. county staff or a
  manager who logs in with a password on a desktop and wants the mini-program too.

A code is 10 characters from a 32-letter alphabet without look-alikes (50 bits), shown as
`ABCDE-FGHJK`; only a keyed HMAC of it is stored (a copy of the database is not enough to
use one). It expires (INVITE_TTL_HOURS, default 72), works once, and a newer code for the
same person replaces an older unused one. Guessing is rate-limited at the routes.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auth.models import Invitation, RoleAssignment, User
from auth.scopes import scope_model
from auth.users import admin_county_ids, role_counties
import coop.audit as audit
from coop.crypto import blind_index
from coop.dbtypes import utcnow
from coop.errors import NotFound, RuleViolation

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_CODE_INPUT = 32
# Roles a county_admin may hand a WeChat binding for: the cooperative-side roles.
INVITABLE_BY_ADMIN = ("coop_manager", "commissioner")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str:
    """What people type: any case, with spaces or the dash we print."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def code_hash(code: str) -> str:
    return blind_index(normalize(code))


def display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _invalid() -> RuleViolation:
    return RuleViolation("邀请码无效、已过期或已被使用", code="INVITE_INVALID")


def _issue(session: Session, actor: User, *, target: dict, scope: dict) -> dict:
    """Store a new code for `target` (user_id or member_id), retiring older unused ones."""
    now = utcnow()
    key, value = next(iter(target.items()))
    session.execute(update(Invitation).where(
        getattr(Invitation, key) == value, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))
    code = new_code()
    hours = int(current_app.config.get("INVITE_TTL_HOURS", 72))
    invitation = Invitation(code_hash=code_hash(code), created_by_id=actor.id,
                            expires_at=now + timedelta(hours=hours), **target, **scope)
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "invitation.create", "invitation", invitation.id,
                 after={**target, **scope, "expires_at": invitation.expires_at})
    return {"invite_code": display(code), "expires_at": invitation.expires_at}


def invite_member(session: Session, actor: User, member) -> dict:
    """POST /members/{id}/invitations (the route has already checked the manager): `member`
    is the registry's Member."""
    return _issue(session, actor, target={"member_id": member.id},
                  scope={"county_id": member.county_id,
                         "cooperative_id": member.cooperative_id})


def invite_user(session: Session, actor: User, user: User) -> dict:
    """POST /users/{id}/invitations: a county_admin lets a manager or commissioner of their
    county bind WeChat. Refused (404) for anyone holding other roles or roles elsewhere:
    an admin must not be able to take over a colleague's or another county's account."""
    where = role_counties(session, user.roles)
    counties = admin_county_ids(actor)
    if not actor.is_superuser and (
            user.is_superuser or not user.roles
            or any(r.role not in INVITABLE_BY_ADMIN or where[r.id] not in counties
                   for r in user.roles)):
        raise NotFound("只能为本县合作社的管理人员生成邀请码")
    return _issue(session, actor, target={"user_id": user.id}, scope={})


def invite_self(session: Session, user: User) -> dict:
    """POST /me/invitations: a code to bind the caller's own WeChat."""
    return _issue(session, user, target={"user_id": user.id}, scope={})


def consume(session: Session, code: str) -> Invitation:
    """Spend a code (not committed: the caller's binding commits it). 422 INVITE_INVALID
    for a wrong, expired, retired or used code — never saying which."""
    if not isinstance(code, str) or not 0 < len(code) <= MAX_CODE_INPUT:
        raise _invalid()
    invitation = session.execute(
        select(Invitation).where(Invitation.code_hash == code_hash(code)).with_for_update()
    ).scalar_one_or_none()
    now = utcnow()
    if (invitation is None or invitation.used_at is not None
            or invitation.revoked_at is not None or invitation.expires_at <= now):
        raise _invalid()
    # Only one of two concurrent redemptions gets the row.
    won = session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if won != 1:
        raise _invalid()
    return invitation


def _member_only_user(session: Session, member) -> User | None:
    """A user whose only role is `member` of this record: the person's own account."""
    candidates = session.execute(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == "member", RoleAssignment.scope_id == member.id,
               User.status == "active").order_by(User.id)).scalars().all()
    return next((u for u in candidates if len(u.roles) == 1), None)


def user_for(session: Session, invitation: Invitation) -> User:
    """The account an invitation binds to: the invited user, or for a member invitation
    that member's own account — made on first use."""
    if invitation.user_id is not None:
        user = session.get(User, invitation.user_id)
        if user is None or user.status != "active":
            raise _invalid()
        return user
    member = session.get(scope_model("member"), invitation.member_id)
    if member is None:
        raise _invalid()
    user = _member_only_user(session, member)
    if user is None:
        # No phone: the member's phone on the roll was typed by a manager and must never
        # let a WeChat account into someone else's (password) account.
        user = User(name=member.name, phone=None, password_hash=None, status="active")
        user.roles = [RoleAssignment(role="member", scope_type="member", scope_id=member.id)]
        session.add(user)
        session.flush()
        audit.record(session, None, "user.create", "user", user.id,
                     after={"name": user.name, "roles": [r.as_dict() for r in user.roles],
                            "invitation_id": invitation.id})
    return user


def _check_redeemer(session: Session, user: User, invitation: Invitation) -> None:
    """The redeeming user must be the member's person: not the code's issuer, and
    holding the member's phone where the register has one."""
    if invitation.created_by_id == user.id:
        raise RuleViolation("不能使用自己生成的邀请码：请把邀请码交给成员本人",
                            code="INVITE_INVALID")
    member = session.get(scope_model("member"), invitation.member_id)
    if member is None:
        raise _invalid()
    if member.phone and member.phone != user.phone:
        raise RuleViolation("该邀请码只能由手机号与成员名册一致的本人使用",
                            code="INVITE_INVALID")


def redeem_for(session: Session, user: User, code: str) -> User:
    """POST /me/invitations/redeem: an already-bound user (a manager who is also a member)
    takes up a member invitation; it adds the `member` role.

    Refused to the user who issued it (a manager must not make himself the member whose
    holdings he then reads as his own) and, when the register has the member's phone, to
    any user whose phone is not that one. A refusal rolls back, so the code stays usable
    by the person it was made for."""
    invitation = consume(session, code)
    if invitation.member_id is None:
        raise _invalid()
    _check_redeemer(session, user, invitation)
    if not any(r.role == "member" and r.scope_id == invitation.member_id for r in user.roles):
        user.roles.append(RoleAssignment(role="member", scope_type="member",
                                         scope_id=invitation.member_id))
        session.flush()
    invitation.used_by_id = user.id
    audit.record(session, user, "invitation.redeem", "invitation", invitation.id,
                 after={"user_id": user.id, "member_id": invitation.member_id})
    return user
