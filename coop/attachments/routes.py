"""Attachments over HTTP (CONTRACT §13): add, list, download.

Whoever may read an object may read its attachments; whoever may write it may add to
them. The object named in the form or the query is loaded through the policy with its
own model and the roles of its own routes (OBJECTS), so a foreign county's or another
cooperative's object — and so its attachments — is 404.
"""
from __future__ import annotations

import functools
from urllib.parse import quote

from flask import Response, request
from flask.views import MethodView
from sqlalchemy import select

from auth.policy import (COOP_READ, COOP_WRITE, COUNTY_ADMIN, COUNTY_FINANCE, COUNTY_MONEY,
                         MEMBER_READ, access, current_user, load_scoped)
from coop.api import Blueprint
from coop.attachments import services
from coop.attachments.models import Attachment
from coop.attachments.schemas import (AttachmentFile, AttachmentForm, AttachmentListArgs,
                                      AttachmentOut)
from coop.county.models import SubsidyApplication
from coop.distribution.models import DistributionPlan
from coop.errors import NotFound
from coop.extensions import db
from coop.pagination import page_schema, paginate, present
from coop.payouts.models import PayoutBatch
from coop.registry.models import Cooperative, Member, ProfessionalManager

blp = Blueprint("attachments", __name__, url_prefix="/api/v1", description="附件")

# object_type → (model, roles that read it, roles that write it): the object's own routes'.
OBJECTS = {
    "cooperative": (Cooperative, COOP_READ, COOP_WRITE + COUNTY_ADMIN),
    "distribution": (DistributionPlan, COOP_READ, COOP_WRITE),
    "subsidy_application": (SubsidyApplication, COOP_READ, COOP_WRITE + COUNTY_FINANCE),
    "payout_batch": (PayoutBatch, COOP_READ, COOP_WRITE + COUNTY_MONEY),
    "manager": (ProfessionalManager, COOP_READ, COOP_WRITE),
    "member": (Member, MEMBER_READ, COOP_WRITE),
}
READERS = tuple(dict.fromkeys(r for _, read, _ in OBJECTS.values() for r in read))
WRITERS = tuple(dict.fromkeys(r for _, _, write in OBJECTS.values() for r in write))
# A multipart body: the file, the form fields and the boundaries around them.
MULTIPART_OVERHEAD = 64 * 1024


def _object(object_type: str, object_id: int, write: bool):
    model, read_roles, write_roles = OBJECTS[object_type]
    return load_scoped(model, object_id, write_roles if write else read_roles)


def _view(attachment: Attachment, superseded: set[int]) -> dict:
    out = {name: getattr(attachment, name) for name in AttachmentOut().fields
           if name != "superseded"}
    out["superseded"] = attachment.id in superseded
    return out


def _attachment_sized(view):
    """Let this request's body be as large as an attachment may be (the app's limit is
    for spreadsheets), before the form is parsed."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        request.max_content_length = services.max_bytes() + MULTIPART_OVERHEAD
        return view(*args, **kwargs)
    return wrapper


@blp.route("/attachments")
class Attachments(MethodView):
    @access(READERS)
    @blp.arguments(AttachmentListArgs, location="query")
    @blp.response(200, page_schema(AttachmentOut))
    def get(self, args):
        """An object's attachments, oldest first; a superseded one stays, marked
        `superseded`. 404 when the caller may not read the object."""
        obj = _object(args["object_type"], args["object_id"], write=False)
        stmt = (select(Attachment).where(Attachment.object_type == args["object_type"],
                                         Attachment.object_id == obj.id)
                .order_by(Attachment.id))
        page = paginate(db.session, stmt, args["page"], args["per_page"])
        superseded = services.superseded_ids(db.session, [a.id for a in page["items"]])
        return present(page, lambda attachment: _view(attachment, superseded))

    @access(WRITERS)
    @_attachment_sized
    @blp.arguments(AttachmentForm, location="form")
    @blp.arguments(AttachmentFile, location="files")
    @blp.response(201, AttachmentOut)
    def post(self, form, files):
        """Attach a file (multipart `file`, `object_type`, `object_id`, `kind`, optional
        `supersedes_id`) to an object the caller may write.

        The type is judged from the bytes: PDF, JPEG, PNG, XLSX, DOCX, else 422
        FILE_TYPE_NOT_ALLOWED; above ATTACHMENT_MAX_BYTES (20 MiB) 413. Stored by its
        SHA-256, never edited or deleted; the upload and its hash are in the audit chain.
        """
        obj = _object(form["object_type"], form["object_id"], write=True)
        upload = files["file"]
        data = upload.stream.read(services.max_bytes() + 1)
        attachment = services.add(db.session, current_user(), form["object_type"], obj,
                                  form["kind"], upload.filename or "", data,
                                  form.get("supersedes_id"))
        return _view(attachment, set())


@blp.route("/attachments/<int:attachment_id>/content", methods=["GET"])
@access(READERS)
@blp.response(200)
def attachment_content(attachment_id):
    """The file, as stored (its bytes checked against the hash). 404 when the caller may
    not read the object it is attached to."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound()
    _object(attachment.object_type, attachment.object_id, write=False)
    data = services.content(attachment)
    ascii_name = f"attachment-{attachment.id}{attachment.filename[attachment.filename.rfind('.'):]}"
    return Response(data, mimetype=attachment.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(attachment.filename)}",
        "Content-Length": str(len(data)),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"{attachment.sha256}"',
    })
