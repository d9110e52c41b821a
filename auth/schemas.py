"""Request and response bodies of the auth routes (marshmallow; unknown fields → 422)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from auth.models import DEPARTMENTS, ROLES, SCOPE_OF_ROLE
from auth.passwords import MIN_LENGTH
from auth.users import MAX_PASSWORD_LENGTH
from coop.fields import Id, Identifier, Integer, Phone
from coop.pagination import PageArgs

TOKEN_LENGTH = validate.Length(min=1, max=4096)
PASSWORD = validate.Length(min=MIN_LENGTH, max=MAX_PASSWORD_LENGTH)
NAME = validate.Length(min=1, max=64)


class LoginIn(Schema):
    # Loaded as its one ASCII spelling, at the edge: "138 0000 0005" and "+86…" are one
    # phone for the lookup and for the per-phone rate limit (auth/ratelimits.py) alike;
    # full-width "１３８…" or "①③⑧…" is refused (422), so it opens no bucket of its own.
    phone = Phone(required=True, max_length=20)
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))


class RefreshIn(Schema):
    refresh_token = fields.String(required=True, validate=TOKEN_LENGTH)


class WechatLoginIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class WechatBindIn(Schema):
    bind_token = fields.String(required=True, validate=TOKEN_LENGTH)
    invite_code = Identifier(required=True, max_length=32)


class InviteCodeIn(Schema):
    invite_code = Identifier(required=True, max_length=32)


class PasswordChangeIn(Schema):
    old_password = fields.String(required=True,
                                 validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))
    new_password = fields.String(required=True, validate=PASSWORD)


class RoleIn(Schema):
    """Role, scope and department are checked together by the service (auth/users.py)."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    scope_type = fields.String(required=True,
                               validate=validate.OneOf(sorted(set(SCOPE_OF_ROLE.values()))))
    scope_id = Id(required=True)
    department = fields.String(validate=validate.OneOf(DEPARTMENTS))


class UserIn(Schema):
    phone = Phone(required=True, max_length=20)
    name = fields.String(required=True, validate=NAME)
    # Optional: a cooperative manager may only ever log in with WeChat.
    password = fields.String(validate=PASSWORD)
    roles = fields.List(fields.Nested(RoleIn), required=True,
                        validate=validate.Length(min=1, max=20))


class UsersArgs(PageArgs):
    q = fields.String(validate=validate.Length(min=1, max=64))


class RoleOut(Schema):
    id = Integer()
    role = fields.String()
    scope_type = fields.String()
    scope_id = Integer()
    department = fields.String()


class MeOut(Schema):
    id = Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    is_superuser = fields.Boolean()
    roles = fields.List(fields.Nested(RoleOut))


class UserOut(MeOut):
    status = fields.String()
    created_at = fields.DateTime()


class TokenPairOut(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = Integer()


class LoginOut(TokenPairOut):
    user = fields.Nested(MeOut)


class WechatLoginOut(LoginOut):
    """Bound: `bound: true` and the login body. Not bound: `bound`, `bind_token`, `expires_in`."""

    bound = fields.Boolean()
    bind_token = fields.String()


class InvitationOut(Schema):
    invite_code = fields.String()
    expires_at = fields.DateTime()
