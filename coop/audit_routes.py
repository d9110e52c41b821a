"""GET /audit (CONTRACT §9): the audit trail of one object, for a county_admin."""
from __future__ import annotations

from coop.api import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from auth.policy import COUNTY_ADMIN, access
from coop.audit import AuditEntry, entry_to_dict
from coop.extensions import db
from coop.pagination import PageArgs, paginate

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


@blp.route("/audit")
@access(COUNTY_ADMIN)
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPageSchema)
def list_audit(args):
    """Audit rows of one object type (and id). Rows are not county-scoped in the table,
    so only a county_admin may read them; objects are named by type and id only."""
    stmt = select(AuditEntry).where(AuditEntry.object_type == args["object_type"])
    if args.get("object_id"):
        stmt = stmt.where(AuditEntry.object_id == args["object_id"])
    page = paginate(db.session, stmt.order_by(AuditEntry.seq), args["page"], args["per_page"])
    page["items"] = [entry_to_dict(e) for e in page["items"]]
    return page
