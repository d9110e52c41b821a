"""HTTP routes of the payouts capability: parse, call the service, serialize."""
from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select

from auth.policy import (COOP_READ, COOP_WRITE, COUNTY_FINANCE, COUNTY_MONEY, MEMBER_READ,
                         access, caller,
                         current_user, has_grant, in_scope, scoped)
import coop.clock as clock
from coop.api import Blueprint
from coop.errors import DomainError, Forbidden, NotFound, TooLarge, ValidationFailed
from coop.extensions import db
from coop.fields import NoBodyIn
from coop.idempotency import idempotent
from coop.pagination import page_schema, paginate
from coop.payouts import bankfile, bankreturn, settlement
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.payouts.schemas import (MAX_RESULTS, PayoutBatchOut, PayoutLineAccountIn,
                                  PayoutLineListArgs, PayoutLineOut, PayoutResultIn,
                                  PayoutReverseIn)
from coop.payouts.services import with_totals

blp = Blueprint("payouts", __name__, url_prefix="/api/v1", description="发放批次")

# Who settles a batch: its cooperative's manager, or for a county batch (rewards,
# subsidies: cooperative_id NULL) the county's money roles. `_require_payer` narrows it.
PAYERS = COOP_WRITE + COUNTY_MONEY


def _require_payer(batch: PayoutBatch) -> None:
    if caller().is_superuser:
        return
    if batch.cooperative_id is not None:
        allowed = has_grant("coop_manager", "cooperative", batch.cooperative_id)
    else:
        allowed = any(has_grant(role, "county", batch.county_id) for role in COUNTY_MONEY)
    if not allowed:
        raise Forbidden()


@blp.route("/payout-batches/<int:batch_id>")
class Batch(MethodView):
    @access(COOP_READ, PayoutBatch, "batch_id")
    @blp.response(200, PayoutBatchOut)
    def get(self, batch):
        return with_totals(db.session, batch)


@blp.route("/payout-batches/<int:batch_id>/lines")
class BatchLines(MethodView):
    @access(MEMBER_READ)
    @blp.arguments(PayoutLineListArgs, location="query")
    @blp.response(200, page_schema(PayoutLineOut))
    def get(self, args, batch_id):
        """The batch's lines in the caller's scope: a member sees only their own."""
        batch = db.session.get(PayoutBatch, batch_id)
        stmt = scoped(select(PayoutLine).where(PayoutLine.batch_id == batch_id), PayoutLine)
        if args.get("status"):
            stmt = stmt.where(PayoutLine.status == args["status"])
        page = paginate(db.session, stmt.order_by(PayoutLine.id), args["page"],
                        args["per_page"])
        if batch is None or (not page["total"] and not in_scope(batch, MEMBER_READ)):
            raise NotFound()
        return page


def _results_body() -> list[dict]:
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise DomainError("请求体不是合法的 JSON", status=400, code="MALFORMED_REQUEST")
    if not isinstance(data, list) or not data:
        raise ValidationFailed("请求体须为非空数组", errors={"_schema": ["须为非空数组"]})
    if len(data) > MAX_RESULTS:
        raise TooLarge(f"一次最多 {MAX_RESULTS} 行")
    try:
        return PayoutResultIn(many=True).load(data)
    except ValidationError as exc:
        raise ValidationFailed("发放结果有误，未记录任何一行", errors=exc.messages) from exc


@blp.route("/payout-batches/<int:batch_id>/results")
class BatchResults(MethodView):
    @access(PAYERS, PayoutBatch, "batch_id")
    @idempotent
    @blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": PayoutResultIn}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "the bank's return: .csv or .xlsx (行号, 状态 成功/失败, "
                                    "银行流水号, 支付日期)"}}}}}})
    @blp.response(200, PayoutBatchOut)
    def post(self, batch):
        """Bank results [{line_id, status: paid|failed, bank_ref, paid_on}], all or none."""
        _require_payer(batch)
        upload = request.files.get("file")
        if upload is None:
            results, numbers = _results_body(), None
        else:
            # The bank's return file (.csv or .xlsx): the same results, named by row.
            results, numbers = bankreturn.parse(upload.filename or "", upload.read(),
                                                current_app.config["MAX_CONTENT_LENGTH"])
        try:
            batch = settlement.record_results(db.session, current_user(), batch, results,
                                              clock.today())
        except DomainError as error:
            raise (bankreturn.by_row(error, numbers) if numbers else error)
        return with_totals(db.session, batch)


@blp.route("/payout-batches/<int:batch_id>/reissue")
class BatchReissue(MethodView):
    @access(PAYERS, PayoutBatch, "batch_id")
    @idempotent
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(201, PayoutBatchOut)
    def post(self, _, batch):
        """A follow-up batch paying the failed (or reversed) lines again."""
        _require_payer(batch)
        return with_totals(db.session, settlement.reissue(db.session, current_user(), batch))


@blp.route("/payout-batches/<int:batch_id>/bank-file")
class BatchBankFile(MethodView):
    @access(COOP_WRITE + COUNTY_FINANCE, PayoutBatch, "batch_id")
    @blp.doc(responses={"200": {"description": "CSV, UTF-8 with BOM",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, batch):
        """The bank's batch file: the only place full account numbers appear. The payer's:
        the cooperative's coop_manager for its batches, county_finance for the county's
        (rewards, subsidies). Held lines (no account) are not in it."""
        if not caller().is_superuser:
            allowed = (has_grant("coop_manager", "cooperative", batch.cooperative_id)
                       if batch.cooperative_id is not None
                       else has_grant("county_finance", "county", batch.county_id))
            if not allowed:
                raise Forbidden()
        body = bankfile.bank_file(db.session, current_user(), batch)
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="payout-batch-{batch.id}.csv"',
            "Cache-Control": "no-store"})


@blp.route("/payout-lines/<int:line_id>/reverse")
class LineReverse(MethodView):
    @access(PAYERS, PayoutLine, "line_id")
    @idempotent
    @blp.arguments(PayoutReverseIn)
    @blp.response(201, PayoutLineOut)
    def post(self, data, line):
        """A reversing line for a paid line (negative amount, `reverses_id`)."""
        _require_payer(db.session.get(PayoutBatch, line.batch_id))
        return settlement.reverse_line(db.session, current_user(), line, data["reason"],
                                       clock.today())


@blp.route("/payout-lines/<int:line_id>")
class LineItem(MethodView):
    @access(MEMBER_READ, PayoutLine, "line_id")
    @blp.response(200, PayoutLineOut)
    def get(self, line):
        return line

    @access(PAYERS, PayoutLine, "line_id")
    @blp.arguments(PayoutLineAccountIn)
    @blp.response(200, PayoutLineOut)
    def patch(self, data, line):
        """Give a held or failed line the payee's account: it is pending again (the
        batch's payer only; audited)."""
        _require_payer(db.session.get(PayoutBatch, line.batch_id))
        return settlement.fix_account(db.session, current_user(), line, data["bank_name"],
                                      data["bank_account"])
