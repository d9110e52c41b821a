"""The member register over HTTP (CONTRACT §4, members part).

ID cards and bank accounts are masked in every response; the phone is shown in full only
to the cooperative's own manager and to the member themself, masked for everyone else.
"""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from auth import invitations
from auth.policy import COOP_READ, COOP_WRITE, MEMBER_READ, access, current_user, in_scope
from auth.schemas import InvitationOut
from coop.extensions import db
from coop.fields import NoBodyIn
from coop.pagination import page_schema, present
from coop.registry import members
from coop.registry.importer import Limits, import_members
from coop.registry.blueprint import blp
from coop.registry.models import Cooperative, Member
from coop.registry.schemas import (ImportFile, ImportOut, LeaveIn, MemberIn, MemberListArgs,
                                   MemberOut, MemberPatch)

DEFAULT_IMPORT_MAX_ROWS = 10_000


def _reveal(member_or_coop) -> bool:
    return in_scope(member_or_coop, COOP_WRITE) or in_scope(member_or_coop, ("member",))


@blp.route("/cooperatives/<int:coop_id>/members")
class Members(MethodView):
    @access(COOP_READ, Cooperative, "coop_id", columns=(Cooperative.id,))
    @blp.arguments(MemberListArgs, location="query")
    @blp.response(200, page_schema(MemberOut))
    def get(self, args, coop):
        """The member register (filters: status, member_type, name, exact ID card)."""
        page, per_page = args.pop("page"), args.pop("per_page")
        reveal = _reveal(coop)
        return present(members.members_page(db.session, coop.id, page, per_page, **args),
                       lambda member: members.member_view(member, reveal))

    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(MemberIn)
    @blp.response(201, MemberOut)
    def post(self, data, coop):
        """Add a member; bad ID-card checksum → 422 ID_CARD_INVALID."""
        member = members.add_member(db.session, current_user(), coop, data)
        return members.member_view(member, True)


@blp.route("/cooperatives/<int:coop_id>/members/import")
class MemberImport(MethodView):
    @access(COOP_WRITE, Cooperative, "coop_id")
    @blp.arguments(ImportFile, location="files")
    @blp.response(201, ImportOut)
    def post(self, files, coop):
        """Import members from .csv or .xlsx (headers 姓名, 身份证号, 手机号, 成员类型,
        入社日期, 开户行, 银行账号): all rows or none; 422 lists every bad row."""
        upload = files["file"]
        config = current_app.config
        limits = Limits(max_bytes=config.get("MEMBER_IMPORT_MAX_BYTES",
                                             config["MAX_CONTENT_LENGTH"]),
                        max_rows=config.get("MEMBER_IMPORT_MAX_ROWS", DEFAULT_IMPORT_MAX_ROWS))
        # Read one byte past the limit: enough to know it is too large, no more.
        data = upload.stream.read(limits.max_bytes + 1)
        count = import_members(db.session, current_user(), coop, upload.filename or "",
                               data, limits)
        return {"imported": count, "cooperative_id": coop.id}


@blp.route("/members/<int:member_id>")
class MemberItem(MethodView):
    @access(MEMBER_READ, Member, "member_id", columns=members.SHOWN)
    @blp.response(200, MemberOut)
    def get(self, member):
        return members.member_view(member, _reveal(member))

    @access(COOP_WRITE, Member, "member_id")
    @blp.arguments(MemberPatch)
    @blp.response(200, MemberOut)
    def patch(self, data, member):
        """Correct a member's details (ID card stays unique in the cooperative)."""
        return members.member_view(
            members.update_member(db.session, current_user(), member, data), True)


@blp.route("/members/<int:member_id>/leave")
class MemberLeave(MethodView):
    @access(COOP_WRITE, Member, "member_id")
    @blp.arguments(LeaveIn)
    @blp.response(200, MemberOut)
    def post(self, data, member):
        """Record leaving (退社): the member stays on the register as `left`."""
        member = members.leave(db.session, current_user(), member, data["on"], data["reason"])
        return members.member_view(member, True)


@blp.route("/members/<int:member_id>/invitations", methods=["POST"])
@access(COOP_WRITE, Member, "member_id")
@blp.arguments(NoBodyIn, required=False)
@blp.response(201, InvitationOut)
def invite_member(_, member):
    """An invitation code for a member to bind WeChat (single use, expiring)."""
    return invitations.invite_member(db.session, current_user(), member)
