"""GET /audit (CONTRACT §9): the audit trail of one object, for a county_admin of its county;
and `chain_of`, which tells the audit layer (coop/audit.py, below every model) which
chain an audited object's rows go to."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from auth.models import Invitation, TokenFamily, User
from auth.policy import COUNTY_ADMIN, access, caller, current_user, load_scoped
from auth.users import load_managed_user
from coop.api import Blueprint
from coop.attachments.models import Attachment
from coop.audit import TRAIL_ORDER, AuditEntry, entry_to_dict
from coop.county.models import Program, RewardRound, SubsidyApplication
from coop.dbtypes import MAX_ID
from coop.distribution.models import AnnualAccount, DistributionPlan
from coop.errors import NotFound, ValidationFailed
from coop.extensions import db
from coop.notifications.models import Notification
from coop.pagination import PageArgs, paginate
from coop.payouts.models import PayoutBatch, PayoutLine
from coop.places.models import County, Town, Village, VillageSecretary, Zone
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


# Where an object's audit rows are chained (coop/audit.py): a cooperative's own chain for
# whatever carries its cooperative_id, else its county's, else its user's. Objects of a
# user's own (sessions, notifications) go to that user's chain even though some carry a
# county: one county's users logging in must not queue behind each other.
CHAINED_TYPES = {**SCOPED_TYPES, "village_secretary": VillageSecretary,
                 "attachment": Attachment, "invitation": Invitation, "user": User,
                 "token_family": TokenFamily, "notification": Notification,
                 "distribution": DistributionPlan}
_USERS_OWN = (TokenFamily, Notification)
_OWN_CHAIN = {"cooperative": "coop", "county": "county", "user": "user"}


def chain_of(session, object_type: str, object_id) -> str | None:
    """The chain for (object_type, object_id), or None for the root. The object was
    just written by the caller, so `session.get` finds it in the identity map: no query."""
    model = CHAINED_TYPES.get(object_type)
    if model is None or object_id is None:
        return None
    try:
        key = int(object_id)
    except (TypeError, ValueError):
        return None
    if object_type in _OWN_CHAIN:   # the id is the scope: nothing to look up
        return f"{_OWN_CHAIN[object_type]}:{key}"
    obj = session.get(model, key)
    if obj is None:
        return None
    if isinstance(obj, _USERS_OWN):
        return f"user:{obj.user_id}"
    for attribute, prefix in (("cooperative_id", "coop"), ("county_id", "county"),
                              ("user_id", "user")):
        value = getattr(obj, attribute, None)
        if value is not None:
            return f"{prefix}:{value}"
    return None


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
    # seq counts within a chain (coop/audit.py): the trail is ordered by chain, then seq.
    page = paginate(db.session, stmt.order_by(*TRAIL_ORDER), args["page"], args["per_page"])
    page["items"] = [entry_to_dict(e) for e in page["items"]]
    return page
