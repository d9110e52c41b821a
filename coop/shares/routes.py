"""HTTP routes of the shares capability: parse, call the service, serialize."""
from __future__ import annotations

from decimal import Decimal

from flask import current_app, jsonify
from flask.views import MethodView
from sqlalchemy import select

from auth.policy import COOP_READ, COOP_WRITE, MEMBER_READ, access, current_user, load_scoped
import coop.clock as clock
from coop.api import Blueprint
from coop.extensions import db
from coop.fields import NoBodyIn
from coop.idempotency import idempotent
from coop.pagination import PageArgs, page_schema, paginate
from coop.registry.models import Cooperative, Member
from coop.registry.schemas import ComplianceOut
from coop.registry.importer import Limits
from coop.registry.schemas import ImportFile
from coop.shares import services
from coop.shares.opening import import_opening_register
from coop.shares.compliance import compliance_report
from coop.shares.models import ShareOperation
from coop.shares.register import lines_query, register_as_of
from coop.shares.schemas import (OpeningRegisterOut, ShareDecisionIn, ShareLineListArgs,
                                 ShareLineOut, ShareOperationDetailOut, ShareOperationIn,
                                 ShareOperationListArgs, ShareOperationOut, ShareRegisterArgs,
                                 ShareRegisterOut, ShareReverseIn)

blp = Blueprint("shares", __name__, url_prefix="/api/v1", description="股权登记")


def _line_out(line, operation_type) -> dict:
    return {"line_no": line.line_no, "member_id": line.member_id,
            "operation_id": line.operation_id, "operation_type": operation_type,
            "kind": line.kind, "delta_fen": line.delta_fen, "effective_on": line.effective_on,
            "created_at": line.created_at}


def _lines_page(stmt, args) -> dict:
    page = paginate(db.session, stmt, args["page"], args["per_page"], scalars=False)
    page["items"] = [_line_out(line, op_type) for line, op_type in page["items"]]
    return page


def _detail(op: ShareOperation) -> dict:
    out = {name: getattr(op, name) for name in ShareOperationOut().fields}
    out["lines"] = [_line_out(line, op_type) for line, op_type in
                    db.session.execute(lines_query(operation_id=op.id))]
    return out


@blp.route("/cooperatives/<int:coop_id>/share-operations")
class CoopShareOperations(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.arguments(ShareOperationListArgs, location="query")
    @blp.response(200, page_schema(ShareOperationOut))
    def get(self, args, coop):
        """A cooperative's share operations, newest first (filter by status, type, member)."""
        stmt = select(ShareOperation).where(ShareOperation.cooperative_id == coop.id)
        for name in ("status", "type", "member_id"):
            if args.get(name) is not None:
                stmt = stmt.where(getattr(ShareOperation, name) == args[name])
        return paginate(db.session, stmt.order_by(ShareOperation.id.desc()), args["page"],
                        args["per_page"])

    @access(COOP_WRITE, Cooperative, "coop_id")
    @idempotent
    @blp.arguments(ShareOperationIn)
    @blp.response(201, ShareOperationDetailOut)
    def post(self, body, coop):
        """Request a share operation (status `submitted`).

        Exactly one of `amount_fen`, `area_mu` (land: area × `land_rate_fen_per_mu`,
        rounded half-up to the fen) or `tickets` (labour: tickets ×
        `labour_ticket_rate_fen`). 422 codes: EFFECTIVE_DATE_IN_FUTURE,
        INSUFFICIENT_SHARES, NOT_TRANSFERABLE (fiscal_subsidy), TRANSFEREE_NOT_MEMBER,
        MEMBER_NOT_ACTIVE, MEMBER_NOT_IN_COOPERATIVE, KIND_NOT_ALLOWED,
        CHARTER_RATE_MISSING. Honours Idempotency-Key.
        """
        load_scoped(Member, body["member_id"])
        if body.get("to_member_id") is not None:
            load_scoped(Member, body["to_member_id"])
        op = services.submit_operation(db.session, current_user(), coop, **body)
        return _detail(op)


@blp.route("/share-operations/<int:op_id>")
class ShareOperationItem(MethodView):
    @access(COOP_READ, ShareOperation, "op_id")
    @blp.response(200, ShareOperationDetailOut)
    def get(self, op):
        """One share operation with the register lines it wrote."""
        return _detail(op)


@blp.route("/share-operations/<int:op_id>/approve", methods=["POST"])
@access(COOP_WRITE, ShareOperation, "op_id")
@idempotent
@blp.arguments(NoBodyIn, required=False)
@blp.response(200, ShareOperationDetailOut)
def approve(_, op):
    """Approve: writes the numbered, immutable register lines in the same transaction.

    422: EFFECTIVE_DATE_IN_FUTURE, INSUFFICIENT_SHARES, SINGLE_MEMBER_CAP_EXCEEDED,
    TRANSFEREE_NOT_MEMBER, MEMBER_NOT_ACTIVE. 409 STATE_CONFLICT when already decided.
    A member whose holding reaches zero becomes `former`; holding again makes them
    `active`. Honours Idempotency-Key.
    """
    return _detail(services.approve_operation(db.session, current_user(), op))


@blp.route("/share-operations/<int:op_id>/reject", methods=["POST"])
@access(COOP_WRITE, ShareOperation, "op_id")
@idempotent
@blp.arguments(ShareDecisionIn)
@blp.response(200, ShareOperationDetailOut)
def reject(body, op):
    """Reject a submitted operation; 409 STATE_CONFLICT when already decided."""
    return _detail(services.reject_operation(db.session, current_user(), op, body["reason"]))


@blp.route("/share-operations/<int:op_id>/reverse", methods=["POST"])
@access(COOP_WRITE, ShareOperation, "op_id")
@idempotent
@blp.arguments(ShareReverseIn)
@blp.response(201, ShareOperationDetailOut)
def reverse(body, op):
    """Request the correction (冲正) of an approved operation.

    Creates a `submitted` operation of type `reverse` with `reverses_id` = this one;
    approving it writes this operation's lines negated, dated `effective_on` (default:
    the original's date). Lines are never edited. 409 if it is not approved or already
    has a pending or approved reversal.
    """
    return _detail(services.reverse_operation(db.session, current_user(), op,
                                              reason=body["reason"],
                                              effective_on=body.get("effective_on")))


@blp.route("/cooperatives/<int:coop_id>/share-register", methods=["GET"])
@access(COOP_READ, Cooperative, "coop_id")
@blp.arguments(ShareRegisterArgs, location="query")
@blp.response(200, ShareRegisterOut)
def share_register(args, coop):
    """The register as of a date (default today): holdings by kind, total and ratio
    (four decimals, rounded half-up) of every member holding capital."""
    register = register_as_of(db.session, coop, args.get("as_of") or clock.today())
    # Already in the schema's shape (plain ints and strings); jsonify skips a marshmallow
    # pass over thousands of members.
    return jsonify(register)


@blp.route("/cooperatives/<int:coop_id>/share-register/import", methods=["POST"])
@access(COOP_WRITE, Cooperative, "coop_id")
@idempotent
@blp.arguments(ImportFile, location="files")
@blp.response(201, OpeningRegisterOut)
def import_opening_register_route(files, coop):
    """Load the opening register (期初股权登记) of a cooperative whose register is empty.

    Multipart `file` (.xlsx or .csv): 成员ID or 身份证号, 出资方式 (现金/土地/集体资产/
    财政补助/劳务), one of 金额（元）, 面积（亩）, 劳务券, and 生效日期. All rows or none: 422
    names every bad row by its row number; the single-member cap is checked once, on the
    final register (422 SINGLE_MEMBER_CAP_EXCEEDED). Each row becomes an approved
    subscription with one numbered line. 409 REGISTER_NOT_EMPTY once the register has
    lines. Honours Idempotency-Key.
    """
    config = current_app.config
    limits = Limits(max_bytes=config.get("MEMBER_IMPORT_MAX_BYTES", config["MAX_CONTENT_LENGTH"]),
                    max_rows=config.get("MEMBER_IMPORT_MAX_ROWS", 10_000))
    upload = files["file"]
    data = upload.stream.read(limits.max_bytes + 1)
    return import_opening_register(db.session, current_user(), coop, upload.filename or "",
                                   data, limits)


@blp.route("/cooperatives/<int:coop_id>/share-register/lines", methods=["GET"])
@access(COOP_READ, Cooperative, "coop_id")
@blp.arguments(ShareLineListArgs, location="query")
@blp.response(200, page_schema(ShareLineOut))
def share_register_lines(args, coop):
    """The register's numbered lines in order (optionally one member's)."""
    return _lines_page(lines_query(coop.id, args.get("member_id")), args)


@blp.route("/members/<int:member_id>/share-lines", methods=["GET"])
@access(MEMBER_READ, Member, "member_id")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ShareLineOut))
def member_share_lines(args, member):
    """One member's register lines; a `member` sees only their own."""
    return _lines_page(lines_query(member.cooperative_id, member.id), args)


# County setting: share of board/supervisory seats held by village-committee members
# below which the cross-appointment check fails. Override with app config.
DEFAULT_CROSS_APPOINTMENT_MIN_RATE = "0.50"


@blp.route("/cooperatives/<int:coop_id>/compliance")
class Compliance(MethodView):
    @access(COOP_READ, Cooperative, "coop_id")
    @blp.response(200, ComplianceOut)
    def get(self, coop):
        """Member count, farmer ratio, enterprise members, largest holder, cross-appointment."""
        floor = Decimal(str(current_app.config.get("CROSS_APPOINTMENT_MIN_RATE",
                                                   DEFAULT_CROSS_APPOINTMENT_MIN_RATE)))
        return compliance_report(db.session, coop, clock.today(), floor)
