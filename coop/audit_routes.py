"""GET /audit (CONTRACT §9): the audit trail of one object, for a county_admin of its county."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from auth.policy import COUNTY_ADMIN, access, caller, current_user, load_scoped
from auth.users import load_managed_user
from coop.api import Blueprint
from coop.audit import AuditEntry, entry_to_dict
from coop.county.models import Program, RewardRound, SubsidyApplication
from coop.dbtypes import MAX_ID
from coop.distribution.models import AnnualAccount, DistributionPlan
from coop.errors import NotFound, ValidationFailed
from coop.extensions import db
from coop.pagination import PageArgs, paginate
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.places.models import County, Town, Village, Zone
from coop.registry.models import Cooperative, Member, Officer, ProfessionalManager
from coop.shares.models import ShareOperation

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="审计日志")


class AuditArgs(PageArgs):
    object_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    object_id = fields.String(validate=validate.Length(min=1, max=64))


class AuditEntrySchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    at = fields.String()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# The audited object types a county_admin may read the trail of, and the model whose row
# says which county it belongs to: the same scope rule as reading the object itself.
# Other types (token families, invitations) are a superuser's only.
SCOPED_TYPES = {
    "county": County, "town": Town, "village": Village, "zone": Zone,
    "cooperative": Cooperative, "member": Member, "officer": Officer,
    "professional_manager": ProfessionalManager, "share_operation": ShareOperation,
    "annual_account": AnnualAccount, "distribution_plan": DistributionPlan,
    "payout_batch": PayoutBatch, "payout_line": PayoutLine, "program": Program,
    "reward_round": RewardRound, "subsidy_application": SubsidyApplication,
}


def check_audit_scope(object_type: str, object_id: str | None) -> None:
    """404 unless the caller may read this object: its trail is as private as it is."""
    if caller().is_superuser:
        return
    if object_id is None:
        raise ValidationFailed("请指定对象编号 object_id",
                               errors={"object_id": ["须指定对象编号"]})
    # ASCII digits only ("²" is a digit to str.isdigit but not to int()), within BIGINT.
    if not (object_id.isascii() and object_id.isdigit()) or not 0 < int(object_id) <= MAX_ID:
        raise NotFound()
    if object_type == "user":
        load_managed_user(db.session, current_user(), int(object_id))
    elif object_type in SCOPED_TYPES:
        load_scoped(SCOPED_TYPES[object_type], int(object_id), COUNTY_ADMIN)
    else:
        raise NotFound()


@blp.route("/audit")
@access(COUNTY_ADMIN)
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPageSchema)
def list_audit(args):
    """The audit trail of one object (`object_type` and `object_id`), oldest first.

    A county_admin reads only objects of their county (404 otherwise, as for the object
    itself); a superuser may also list a whole type by leaving out `object_id`.
    """
    check_audit_scope(args["object_type"], args.get("object_id"))
    stmt = select(AuditEntry).where(AuditEntry.object_type == args["object_type"])
    if args.get("object_id"):
        stmt = stmt.where(AuditEntry.object_id == args["object_id"])
    page = paginate(db.session, stmt.order_by(AuditEntry.seq), args["page"], args["per_page"])
    page["items"] = [entry_to_dict(e) for e in page["items"]]
    return page
