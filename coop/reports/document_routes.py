"""The cooperative's papers over HTTP (CONTRACT §13): the member roster and the share
register as xlsx or PDF, a member's certificate of contribution as PDF."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app
from marshmallow import Schema, fields, validate

from auth.policy import COOP_READ, MEMBER_READ, access
import coop.clock as clock
from coop.api import Blueprint
from coop.errors import ServiceUnavailable
from coop.extensions import db
from coop.registry.models import Cooperative, Member
from coop.reports import documents
from coop.reports.pdf_export import CJKFontMissing

blp = Blueprint("documents", __name__, url_prefix="/api/v1", description="合作社文书")
FILE_DOC = {"responses": {"200": {"description": "the file", "content": {
    documents.XLSX: {}, "application/pdf": {}}}}}


class DocumentArgs(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "pdf")))


class RegisterDocumentArgs(DocumentArgs):
    as_of = fields.Date(metadata={"description": "默认今天"})


class CertificateArgs(Schema):
    format = fields.String(load_default="pdf", validate=validate.OneOf(("pdf",)))
    as_of = fields.Date(metadata={"description": "默认今天"})


def _file(data: bytes, fmt: str, stem: str) -> Response:
    ascii_stem = "document"
    return Response(data, mimetype=documents.XLSX if fmt == "xlsx" else "application/pdf",
                    headers={
                        "Content-Disposition": f'attachment; filename="{ascii_stem}.{fmt}"; '
                                               f"filename*=UTF-8''{quote(f'{stem}.{fmt}', safe='')}",
                        "Cache-Control": "private, no-store"})


def _render(table: documents.Table, fmt: str) -> Response:
    if fmt == "xlsx":
        return _file(documents.write_xlsx(table), fmt, table.file_stem)
    return _file(_pdf(documents.write_pdf, table), fmt, table.file_stem)


def _pdf(make, *args):
    try:
        return make(*args)
    except CJKFontMissing as exc:
        current_app.logger.error("document pdf without a CJK font: %s", exc)
        raise ServiceUnavailable("服务器未安装中文字体，暂不能生成 PDF",
                                 code="PDF_FONT_MISSING") from exc


@blp.route("/cooperatives/<int:coop_id>/member-roster", methods=["GET"])
@access(COOP_READ, Cooperative, "coop_id")
@blp.arguments(DocumentArgs, location="query")
@blp.response(200)
@blp.doc(**FILE_DOC)
def member_roster(args, coop):
    """成员名册: every member in register order (number, name, type, masked ID card and
    phone, joined, left, status, capital held today), as xlsx or pdf."""
    return _render(documents.roster(db.session, coop), args["format"])


@blp.route("/cooperatives/<int:coop_id>/share-register/document", methods=["GET"])
@access(COOP_READ, Cooperative, "coop_id")
@blp.arguments(RegisterDocumentArgs, location="query")
@blp.response(200)
@blp.doc(**FILE_DOC)
def share_register_document(args, coop):
    """股权登记簿 as of a date (default today): each holder's capital by kind, total and
    ratio, with totals, as xlsx or pdf."""
    table = documents.share_register(db.session, coop, args.get("as_of") or clock.today())
    return _render(table, args["format"])


@blp.route("/members/<int:member_id>/certificate", methods=["GET"])
@access(MEMBER_READ, Member, "member_id")
@blp.arguments(CertificateArgs, location="query")
@blp.response(200)
@blp.doc(**FILE_DOC)
def member_certificate(args, member):
    """出资证明书 (股金证) of a member as of a date (default today), PDF: the capital by
    kind and in total, the total also in Chinese capital numerals (壹万贰仟元整)."""
    data, stem = _pdf(documents.certificate, db.session, member,
                      args.get("as_of") or clock.today())
    return _file(data, "pdf", stem)
