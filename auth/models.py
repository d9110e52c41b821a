"""Users, role assignments, refresh-token families, WeChat bindings and invitations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.dbtypes import Ident, UTCDateTime, created_at, fk, intpk
from coop.extensions import db

ROLES = ("county_admin", "county_finance", "county_reviewer", "coop_manager",
         "commissioner", "member", "city_viewer")
SCOPE_OF_ROLE = {
    "county_admin": "county", "county_finance": "county", "county_reviewer": "county",
    "coop_manager": "cooperative", "commissioner": "cooperative", "member": "member",
    # A city (地级市) reads its counties' figures and reports, masked, and writes nothing.
    "city_viewer": "city",
}
DEPARTMENTS = ("organization", "finance", "agriculture")
COUNTY_ROLES = ("county_admin", "county_finance", "county_reviewer")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[intpk]
    phone: Mapped[str | None] = mapped_column(Ident(20), unique=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # Members who only ever log in with WeChat have no password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    is_superuser: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[created_at]

    roles: Mapped[list["RoleAssignment"]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan",
        order_by="RoleAssignment.id")


class RoleAssignment(db.Model):
    """A role held within one scope: a county, a cooperative, or one member record."""

    __tablename__ = "role_assignments"

    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id", nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    scope_type: Mapped[str] = mapped_column(String(16), nullable=False)
    scope_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Only county_reviewer carries a department; '' keeps the unique key working on MySQL.
    department: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(back_populates="roles")

    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope_type", "scope_id", "department"),
        db.Index("ix_role_assignments_scope", "scope_type", "scope_id"),
    )

    def as_dict(self) -> dict:
        out = {"id": self.id, "role": self.role, "scope_type": self.scope_type,
               "scope_id": self.scope_id}
        if self.department:
            out["department"] = self.department
        return out


class TokenFamily(db.Model):
    """One login session: every refresh token rotated from one login shares a family.

    Access tokens carry the family id, so revoking the family (logout, reuse of a spent
    refresh token, password change) stops its access tokens at once.
    """

    __tablename__ = "token_families"

    id: Mapped[intpk]
    user_id: Mapped[int] = fk("users.id", nullable=False, index=True)
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(db.Model):
    """A refresh token, stored only as its SHA-256; spent once it has been rotated."""

    __tablename__ = "refresh_tokens"

    id: Mapped[intpk]
    family_id: Mapped[int] = fk("token_families.id", nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(Ident(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[created_at]


class WechatBinding(db.Model):
    """A WeChat openid bound to a user, once, through an invitation code."""

    __tablename__ = "wechat_bindings"

    id: Mapped[intpk]
    openid: Mapped[str] = mapped_column(Ident(64), nullable=False, unique=True)
    unionid: Mapped[str | None] = mapped_column(Ident(64), index=True)
    user_id: Mapped[int] = fk("users.id", nullable=False, index=True)
    created_at: Mapped[created_at]


class Invitation(db.Model):
    """A single-use, expiring code that lets a WeChat account take up an identity.

    It targets either a member record (binding makes a `member` user for that person) or
    an existing user (a cooperative manager or county staff member binding their WeChat).
    Only a keyed hash of the code is stored. The scope columns let the policy layer place
    the invitation in its county, cooperative and member.
    """

    __tablename__ = "invitations"

    id: Mapped[intpk]
    code_hash: Mapped[str] = mapped_column(Ident(64), nullable=False, unique=True)
    user_id: Mapped[int | None] = fk("users.id", index=True)
    member_id: Mapped[int | None] = fk("members.id", index=True)
    county_id: Mapped[int | None] = fk("counties.id", index=True)
    cooperative_id: Mapped[int | None] = fk("cooperatives.id", index=True)
    created_by_id: Mapped[int | None] = fk("users.id")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = fk("users.id")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[created_at]

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (member_id IS NULL)", name="one_target"),
    )
