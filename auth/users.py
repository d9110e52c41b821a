"""Users and their role assignments: the use cases behind /users, /me and `flask users`.

Who may grant what: a county_admin manages the roles inside their own county — county
staff (county scope) and cooperative managers and commissioners (a cooperative of the
county). Members are not granted by hand: they join through invitation codes
(auth/invitations.py). A superuser (made only with the CLI) may grant anywhere, and the
CLI itself acts as the system (`actor=None`).
"""
from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from auth.models import DEPARTMENTS, ROLES, SCOPE_OF_ROLE, RoleAssignment, User
from auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from auth.policy import Grant
from auth.scopes import scope_model
from auth.tokens import revoke_user_families, start_session
import coop.audit as audit
import coop.crypto as crypto
from coop.errors import (Conflict, Forbidden, NotFound, RuleViolation, Unauthorized,
                         ValidationFailed)
from coop.transaction import flush_or_conflict
from coop.validators import is_valid_phone

MAX_PASSWORD_LENGTH = 128


def me_dict(user: User) -> dict:
    """The caller's identity as GET /me and the login responses show it."""
    return {"id": user.id, "name": user.name, "phone": user.phone,
            "is_superuser": user.is_superuser, "roles": [r.as_dict() for r in user.roles]}


def user_dict(user: User, roles: list[RoleAssignment] | None = None) -> dict:
    return {"id": user.id, "name": user.name, "phone": user.phone, "status": user.status,
            "is_superuser": user.is_superuser, "created_at": user.created_at,
            "roles": [r.as_dict() for r in (user.roles if roles is None else roles)]}


def admin_county_ids(actor: User) -> set[int]:
    return {r.scope_id for r in actor.roles
            if r.role == "county_admin" and r.scope_type == "county"}


def _is_system(actor: User | None) -> bool:
    return actor is None or actor.is_superuser


# --- where a role lies ------------------------------------------------------------------

def scope_county_id(session: Session, scope_type: str, scope_id: int) -> int | None:
    """The county a role's scope object belongs to; None if the object does not exist."""
    if scope_type == "city":
        return None     # a city spans counties: no county's admin manages its roles
    model = scope_model(scope_type)
    if scope_type == "county":
        return scope_id if session.get(model, scope_id) is not None else None
    return session.execute(select(model.county_id).where(model.id == scope_id)
                           ).scalar_one_or_none()


def role_counties(session: Session, roles: list[RoleAssignment]) -> dict[int, int | None]:
    """{assignment id: county id} for many assignments, in two queries at most."""
    wanted = {"cooperative": set(), "member": set()}
    for r in roles:
        if r.scope_type in wanted:
            wanted[r.scope_type].add(r.scope_id)
    county_of = {}
    for scope_type in ("cooperative", "member"):
        model = scope_model(scope_type)
        if wanted[scope_type]:
            county_of[scope_type] = dict(session.execute(
                select(model.id, model.county_id).where(model.id.in_(wanted[scope_type]))
            ).all())
    return {r.id: r.scope_id if r.scope_type == "county"
            else county_of.get(r.scope_type, {}).get(r.scope_id) for r in roles}


def _roles_in_counties(county_ids):
    """SQL: a role assignment whose scope lies in one of `county_ids`."""
    coop, member = scope_model("cooperative"), scope_model("member")
    coops = select(coop.id).where(coop.county_id.in_(county_ids))
    members = select(member.id).where(member.county_id.in_(county_ids))
    return or_(
        and_(RoleAssignment.scope_type == "county", RoleAssignment.scope_id.in_(county_ids)),
        and_(RoleAssignment.scope_type == "cooperative", RoleAssignment.scope_id.in_(coops)),
        and_(RoleAssignment.scope_type == "member", RoleAssignment.scope_id.in_(members)),
    )


def managed_users_query(actor: User, q: str | None = None):
    """SELECT of the users the actor may see: holding a role inside one of their counties."""
    stmt = select(User).order_by(User.id)
    if not actor.is_superuser:
        stmt = stmt.where(User.id.in_(
            select(RoleAssignment.user_id).where(_roles_in_counties(admin_county_ids(actor)))))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(User.name.like(pattern, escape="\\"),
                              User.phone.like(pattern, escape="\\")))
    return stmt


def load_managed_user(session: Session, actor: User, user_id: int) -> User:
    """The user named in the path if the actor manages them, else 404."""
    user = session.execute(managed_users_query(actor).where(User.id == user_id)
                           ).scalar_one_or_none()
    if user is None:
        raise NotFound()
    return user


def visible_roles(session: Session, actor: User, users: list[User]) -> dict[int, list]:
    """Each user's roles the actor may see: those inside the actor's counties."""
    if actor.is_superuser:
        return {u.id: list(u.roles) for u in users}
    counties = admin_county_ids(actor)
    where = role_counties(session, [r for u in users for r in u.roles])
    return {u.id: [r for r in u.roles if where.get(r.id) in counties] for u in users}


# --- validation --------------------------------------------------------------------------

def _check_role(session: Session, actor: User | None, spec: Grant) -> Grant:
    """Refuse a role the actor may not grant; 404 when its scope is outside their county."""
    if spec.role not in ROLES:
        raise ValidationFailed("角色不存在", errors={"role": ["unknown role"]})
    if SCOPE_OF_ROLE[spec.role] != spec.scope_type:
        raise ValidationFailed("角色与范围类型不符", errors={
            "scope_type": [f"{spec.role} is held on a {SCOPE_OF_ROLE[spec.role]}"]})
    if spec.role == "county_reviewer" and spec.department not in DEPARTMENTS:
        raise ValidationFailed("评审人员须指定部门", errors={
            "department": [f"one of {', '.join(DEPARTMENTS)}"]})
    if spec.role != "county_reviewer" and spec.department:
        raise ValidationFailed("只有评审人员有部门", errors={
            "department": ["only county_reviewer has a department"]})
    if spec.role == "member" and actor is not None:
        raise RuleViolation("成员身份须通过邀请码绑定获得", code="ROLE_NOT_ASSIGNABLE")
    if spec.scope_type == "city":
        # A city's role spans counties: only the system (CLI, superuser) grants it.
        if not _is_system(actor) or session.get(scope_model("city"), spec.scope_id) is None:
            raise NotFound("角色范围对象不存在或不在您的县内")
        return spec
    county_id = scope_county_id(session, spec.scope_type, spec.scope_id)
    if county_id is None or not (_is_system(actor) or county_id in admin_county_ids(actor)):
        raise NotFound("角色范围对象不存在或不在您的县内")
    return spec


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码长度须为 {MIN_LENGTH} 到 {MAX_PASSWORD_LENGTH} 个字符",
                               errors={"password": [f"length {MIN_LENGTH}..{MAX_PASSWORD_LENGTH}"]})


def _phone_taken() -> Conflict:
    return Conflict("该手机号已被其他用户使用", code="PHONE_TAKEN")


# --- use cases ---------------------------------------------------------------------------

def create_user(session: Session, actor: User | None, *, phone: str, name: str,
                password: str | None, roles: list[Grant],
                is_superuser: bool = False) -> User:
    """Create a user holding `roles` (POST /users, `flask users create`).

    The password may be left out for people who will only log in with WeChat.
    """
    if is_superuser and actor is not None:
        raise RuleViolation("超级用户只能用命令行创建", code="ROLE_NOT_ASSIGNABLE")
    if not is_valid_phone(phone):
        raise ValidationFailed("手机号格式不正确", errors={"phone": ["not a mainland mobile number"]})
    if password is not None:
        _check_password(password)
    if actor is not None and not actor.is_superuser and not roles:
        raise ValidationFailed("至少指定一个角色", errors={"roles": ["at least one role"]})
    if len(set(roles)) != len(roles):
        raise ValidationFailed("角色重复", errors={"roles": ["duplicate role"]})
    checked = [_check_role(session, actor, spec) for spec in roles]
    if session.execute(select(exists().where(User.phone == phone))).scalar():
        raise _phone_taken()
    user = User(phone=phone, name=name, is_superuser=is_superuser, status="active",
                password_hash=hash_password(password) if password is not None else None)
    user.roles = [RoleAssignment(role=s.role, scope_type=s.scope_type, scope_id=s.scope_id,
                                 department=s.department) for s in checked]
    session.add(user)
    flush_or_conflict(session, _phone_taken())
    # The audit chain is kept for ever and cannot be edited: it gets the phone's mask.
    # Who created whom, with which roles, is what the county's other admins (and the
    # notifications layer, which reads this row) are told.
    audit.record(session, actor, "user.create", "user", user.id,
                 after={**user_dict(user), "phone": crypto.mask_phone(user.phone),
                        "created_by": getattr(actor, "id", None), "user_id": user.id,
                        "with_password": password is not None})
    return user


def grant_role(session: Session, actor: User | None, user: User, spec: Grant
               ) -> RoleAssignment:
    """Add one role to a user (POST /users/{id}/roles, `flask users grant`).

    Nobody grants a role to themselves (403 SELF_GRANT_FORBIDDEN): a county_admin who
    gave itself county_finance could approve its own money decisions (四眼原则)."""
    if actor is not None and actor.id == user.id:
        raise Forbidden("不能给自己授予角色，须由本县另一位管理员授予",
                        code="SELF_GRANT_FORBIDDEN")
    _check_role(session, actor, spec)
    exists_already = Conflict("该用户已有此角色", code="ROLE_EXISTS")
    if any(_same(r, spec) for r in user.roles):
        raise exists_already
    assignment = RoleAssignment(user_id=user.id, role=spec.role, scope_type=spec.scope_type,
                                scope_id=spec.scope_id, department=spec.department)
    session.add(assignment)
    flush_or_conflict(session, exists_already)
    audit.record(session, actor, "user.role_grant", "user", user.id,
                 after={**assignment.as_dict(), "granted_by": getattr(actor, "id", None),
                        "user_id": user.id})
    return assignment


def _other_county_admins(session: Session, assignment: RoleAssignment) -> int:
    return session.execute(
        select(func.count()).select_from(RoleAssignment)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == "county_admin",
               RoleAssignment.scope_id == assignment.scope_id,
               RoleAssignment.id != assignment.id, User.status == "active")).scalar_one()


def revoke_role(session: Session, actor: User | None, user: User, role_id: int) -> None:
    """Remove one role (DELETE /users/{id}/roles/{role_id}, `flask users revoke`).

    A county_admin may remove any role inside their county, but not the county's last
    county_admin (the CLI may).
    """
    assignment = next((r for r in user.roles if r.id == role_id), None)
    if assignment is None:
        raise NotFound()
    county_id = scope_county_id(session, assignment.scope_type, assignment.scope_id)
    if not (_is_system(actor) or county_id in admin_county_ids(actor)):
        raise NotFound()
    if (actor is not None and assignment.role == "county_admin"
            and _other_county_admins(session, assignment) == 0):
        raise Conflict("不能移除本县最后一位县级管理员", code="LAST_COUNTY_ADMIN")
    before = assignment.as_dict()
    user.roles.remove(assignment)
    session.flush()
    audit.record(session, actor, "user.role_revoke", "user", user.id, before=before)


def _same(assignment: RoleAssignment, spec: Grant) -> bool:
    return Grant(assignment.role, assignment.scope_type, assignment.scope_id,
                 assignment.department or "") == spec


def find_role(user: User, spec: Grant) -> RoleAssignment:
    for r in user.roles:
        if _same(r, spec):
            return r
    raise NotFound("该用户没有此角色")


def login_with_password(session: Session, phone: str, password: str) -> tuple[User, dict]:
    """POST /auth/login. Same answer and the same work for an unknown phone, a wrong
    password, a user without a password or a disabled one."""
    user = session.execute(select(User).where(User.phone == phone.strip())
                           ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user.status != "active":
        raise Unauthorized("手机号或密码错误", code="BAD_CREDENTIALS")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    pair = start_session(session, user, "password")
    return user, pair


def _set_password(session: Session, actor: User | None, user: User, new_password: str) -> None:
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    revoked = revoke_user_families(session, user.id, "password_changed")
    audit.record(session, actor, "user.password_change", "user", user.id,
                 after={"password_changed": True, "families_revoked": revoked})


def change_password(session: Session, user: User, old_password: str, new_password: str) -> None:
    """POST /me/password: every login of the user (all token families) ends."""
    if not verify_password(user.password_hash, old_password):
        raise RuleViolation("原密码不正确", code="WRONG_PASSWORD",
                            errors={"old_password": ["does not match"]})
    _set_password(session, user, user, new_password)


def reset_password(session: Session, user: User, new_password: str) -> None:
    """`flask users set-password`: an operator sets a password; all logins end."""
    _set_password(session, None, user, new_password)
