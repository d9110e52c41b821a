"""HTTP routes of the auth capability: parse, call the service, serialize.

Login flows (CONTRACT §1): phone + password (`/auth/login`), WeChat (`/auth/wechat/login`,
then `/auth/wechat/bind` with an invitation code on first use), refresh rotation and
logout. Users and roles for county admins, /me for everybody, invitation codes.
"""
from __future__ import annotations

from flask.views import MethodView

from auth import invitations, tokens, users, wechat
from auth.policy import (ANY_USER, COUNTY_ADMIN, Grant, access, current_user,
                         public)
from auth.ratelimits import (bind_limits, login_limits, redeem_limits, refresh_limits,
                             wechat_login_limits)
from auth.schemas import (InvitationOut, InviteCodeIn, LoginIn, LoginOut, MeOut,
                          PasswordChangeIn, RefreshIn, RoleIn, RoleOut, TokenPairOut, UserIn,
                          UserOut, UsersArgs, WechatBindIn, WechatLoginIn, WechatLoginOut)
from coop.api import Blueprint
from coop.extensions import db
from coop.fields import NoBodyIn
from coop.pagination import page_schema, paginate

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与用户")


def _role_spec(data: dict) -> Grant:
    return Grant(data["role"], data["scope_type"], data["scope_id"],
                          data.get("department", ""))


# --- login, tokens ----------------------------------------------------------------------

@blp.route("/auth/login", methods=["POST"])
@public
@blp.doc(security=[])
@login_limits
@blp.arguments(LoginIn)
@blp.response(200, LoginOut)
def login(data):
    """Log in with phone and password (county staff). 401 BAD_CREDENTIALS otherwise."""
    user, pair = users.login_with_password(db.session, data["phone"], data["password"])
    return {**pair, "user": users.me_dict(user)}


@blp.route("/auth/refresh", methods=["POST"])
@public
@blp.doc(security=[])
@refresh_limits
@blp.arguments(RefreshIn)
@blp.response(200, TokenPairOut)
def refresh(data):
    """Spend a refresh token for a new pair; a spent one → 401 REFRESH_REUSED."""
    return tokens.rotate(db.session, data["refresh_token"])


@blp.route("/auth/logout", methods=["POST"])
@public
@blp.doc(security=[])
@refresh_limits
@blp.arguments(RefreshIn)
@blp.response(204)
def logout(data):
    """End this login: the family is revoked, its access token fails at once."""
    tokens.logout(db.session, data["refresh_token"])


@blp.route("/auth/wechat/login", methods=["POST"])
@public
@blp.doc(security=[])
@wechat_login_limits
@blp.arguments(WechatLoginIn)
@blp.response(200, WechatLoginOut)
def wechat_login(data):
    """Log in with a wx.login() code; an unbound account gets a bind_token instead."""
    return wechat.login(db.session, data["code"])


@blp.route("/auth/wechat/bind", methods=["POST"])
@public
@blp.doc(security=[])
@bind_limits
@blp.arguments(WechatBindIn)
@blp.response(200, WechatLoginOut)
def wechat_bind(data):
    """Bind the WeChat account to the invited person and log in; 422 INVITE_INVALID."""
    return wechat.bind(db.session, data["bind_token"], data["invite_code"])


# --- me ---------------------------------------------------------------------------------

@blp.route("/me", methods=["GET"])
@access(ANY_USER)
@blp.response(200, MeOut)
def me():
    return users.me_dict(current_user())


@blp.route("/me/password", methods=["POST"])
@access(ANY_USER)
@blp.arguments(PasswordChangeIn)
@blp.response(204)
def change_password(data):
    """Change the caller's password; every login of theirs ends (log in again)."""
    users.change_password(db.session, current_user(), data["old_password"],
                          data["new_password"])


@blp.route("/me/invitations", methods=["POST"])
@access(ANY_USER)
@blp.arguments(NoBodyIn, required=False)
@blp.response(201, InvitationOut)
def invite_self(_):
    """An invitation code to bind the caller's own WeChat account."""
    return invitations.invite_self(db.session, current_user())


@blp.route("/me/invitations/redeem", methods=["POST"])
@access(ANY_USER)
@redeem_limits
@blp.arguments(InviteCodeIn)
@blp.response(200, MeOut)
def redeem_invitation(data):
    """Take up a member invitation while logged in (adds the `member` role)."""
    user = invitations.redeem_for(db.session, current_user(), data["invite_code"])
    return users.me_dict(user)


# --- users and roles (county_admin; superuser anywhere) ---------------------------------

@blp.route("/users")
class Users(MethodView):
    @access(COUNTY_ADMIN)
    @blp.arguments(UsersArgs, location="query")
    @blp.response(200, page_schema(UserOut))
    def get(self, args):
        """Users holding a role inside the caller's county (only those roles are shown)."""
        actor = current_user()
        page = paginate(db.session, users.managed_users_query(actor, args.get("q")),
                        args["page"], args["per_page"])
        shown = users.visible_roles(db.session, actor, page["items"])
        page["items"] = [users.user_dict(u, shown[u.id]) for u in page["items"]]
        return page

    @access(COUNTY_ADMIN)
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, data):
        """Create a county staff member or cooperative manager of the caller's county."""
        user = users.create_user(db.session, current_user(), phone=data["phone"],
                                 name=data["name"], password=data.get("password"),
                                 roles=[_role_spec(r) for r in data["roles"]])
        return users.user_dict(user)


def _managed(user_id: int):
    return users.load_managed_user(db.session, current_user(), user_id)


@blp.route("/users/<int:user_id>", methods=["GET"])
@access(COUNTY_ADMIN)
@blp.response(200, UserOut)
def get_user(user_id):
    user = _managed(user_id)
    return users.user_dict(user, users.visible_roles(db.session, current_user(), [user])[user.id])


@blp.route("/users/<int:user_id>/roles", methods=["POST"])
@access(COUNTY_ADMIN)
@blp.arguments(RoleIn)
@blp.response(201, RoleOut)
def grant_role(data, user_id):
    assignment = users.grant_role(db.session, current_user(), _managed(user_id),
                                  _role_spec(data))
    return assignment.as_dict()


@blp.route("/users/<int:user_id>/roles/<int:role_id>", methods=["DELETE"])
@access(COUNTY_ADMIN)
@blp.response(204)
def revoke_role(user_id, role_id):
    users.revoke_role(db.session, current_user(), _managed(user_id), role_id)


@blp.route("/users/<int:user_id>/invitations", methods=["POST"])
@access(COUNTY_ADMIN)
@blp.arguments(NoBodyIn, required=False)
@blp.response(201, InvitationOut)
def invite_user(_, user_id):
    """An invitation code for a cooperative manager or commissioner to bind WeChat."""
    return invitations.invite_user(db.session, current_user(), _managed(user_id))
