"""Attachments: judged by their bytes, bounded in size, stored by content hash, never
edited or deleted, in the audit chain with their hash, scoped as their object."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from coop.attachments.models import Attachment, ImmutableAttachmentError
from coop.audit import AuditEntry, verify

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 \
    + b"\xff\xd9"


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["签到表", "刘一"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    """An .xlsx-looking archive whose one sheet inflates to 300 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"\x00" * (1024 * 1024)
            for _ in range(300):
                fh.write(block)
    return out.getvalue()


@pytest.fixture(autouse=True)
def store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


def post(client, headers, data, filename, object_type="cooperative", object_id=None,
         kind="assembly_minutes", **extra):
    form = {"file": (io.BytesIO(data), filename), "object_type": object_type,
            "object_id": str(object_id), "kind": kind, **extra}
    return client.post("/api/v1/attachments", headers=headers, data=form,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("data, name, content_type", [
    (PDF, "成员大会会议记录.pdf", "application/pdf"),
    (JPEG, "公示照片.jpeg", "image/jpeg"),
    (xlsx_bytes(), "签到表.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_a_pdf_a_jpeg_and_an_xlsx_are_accepted_and_come_back_as_stored(
        client, db, world, store, data, name, content_type):
    resp = post(client, world.manager, data, name, object_id=world.coop.id)
    assert resp.status_code == 201, resp.json
    body = resp.json
    digest = hashlib.sha256(data).hexdigest()
    assert (body["content_type"], body["size"], body["sha256"]) == (content_type, len(data),
                                                                     digest)
    assert body["object_type"] == "cooperative" and body["object_id"] == world.coop.id
    assert (store / digest[:2] / digest[2:4] / digest).read_bytes() == data
    got = client.get(f"/api/v1/attachments/{body['id']}/content", headers=world.reviewer)
    assert got.status_code == 200 and got.data == data
    assert got.headers["Content-Type"] == content_type
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''" in got.headers["Content-Disposition"]


@pytest.mark.parametrize("data, name, status, code", [
    (b"MZ\x90\x00\x03" + b"\x00" * 200, "发票.pdf", 422, "FILE_TYPE_NOT_ALLOWED"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "minutes.pdf", 422,
     "FILE_TYPE_NOT_ALLOWED"),
    (zip_bomb(), "签到表.xlsx", 413, "PAYLOAD_TOO_LARGE"),
])
def test_an_exe_an_html_page_and_a_zip_bomb_are_refused(client, db, world, store, data,
                                                        name, status, code):
    resp = post(client, world.manager, data, name, object_id=world.coop.id)
    assert resp.status_code == status and resp.json["code"] == code
    assert db.session.scalars(select(Attachment)).all() == []
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))


def test_the_size_limit_is_413(app, client, db, world, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    big = PDF + b"%" * 1000
    resp = post(client, world.manager, big, "big.pdf", object_id=world.coop.id)
    assert resp.status_code == 413 and resp.json["code"] == "PAYLOAD_TOO_LARGE"
    assert post(client, world.manager, PDF, "ok.pdf",
                object_id=world.coop.id).status_code == 201


def test_the_upload_is_in_the_audit_chain_with_its_hash(client, db, world):
    resp = post(client, world.manager, PDF, "minutes.pdf", object_id=world.coop.id)
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "attachment.create")).one()
    assert json.loads(entry.after)["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert entry.object_id == str(resp.json["id"])
    assert verify(db.session).ok


def test_a_foreign_countys_attachment_is_404_and_so_is_another_cooperatives(client, db,
                                                                           world, make):
    theirs = post(client, world.manager_foreign, PDF, "x.pdf", object_id=world.foreign.id)
    assert theirs.status_code == 201
    url = f"/api/v1/attachments/{theirs.json['id']}/content"
    for headers in (world.manager, world.reviewer, world.admin, world.manager_other):
        assert client.get(url, headers=headers).status_code == 404
    listing = client.get("/api/v1/attachments", headers=world.reviewer, query_string={
        "object_type": "cooperative", "object_id": world.foreign.id})
    assert listing.status_code == 404
    # nor can anyone attach to an object outside their scope
    assert post(client, world.manager, PDF, "y.pdf",
                object_id=world.foreign.id).status_code == 404
    assert post(client, world.manager, PDF, "y.pdf",
                object_id=world.other.id).status_code == 404


def test_readers_read_and_writers_write_as_for_the_object(client, db, world, make):
    member = make.member(world.coop)
    member_user, member_headers = make.login("member", member)
    ok = post(client, world.manager, JPEG, "身份证复印件.jpg", object_type="member",
              object_id=member.id, kind="other")
    assert ok.status_code == 201
    # the member reads their own; a reviewer reads it; neither may add
    url = f"/api/v1/attachments/{ok.json['id']}/content"
    assert client.get(url, headers=member_headers).status_code == 200
    assert client.get(url, headers=world.reviewer).status_code == 200
    assert post(client, member_headers, PDF, "x.pdf", object_type="member",
                object_id=member.id).status_code == 403
    assert post(client, world.reviewer, PDF, "x.pdf",
                object_id=world.coop.id).status_code == 403
    # another member of the same cooperative does not see it
    _, other_member = make.login("member", make.member(world.coop))
    assert client.get(url, headers=other_member).status_code == 404


def test_attachments_are_superseded_never_edited_or_deleted(client, db, world):
    first = post(client, world.manager, PDF, "v1.pdf", object_id=world.coop.id).json
    second = post(client, world.manager, JPEG, "v2.jpg", object_id=world.coop.id,
                  supersedes_id=str(first["id"]))
    assert second.status_code == 201 and second.json["supersedes_id"] == first["id"]
    again = post(client, world.manager, JPEG, "v2.jpg", object_id=world.coop.id,
                 supersedes_id=str(first["id"]))
    assert again.status_code == 409
    listing = client.get("/api/v1/attachments", headers=world.manager, query_string={
        "object_type": "cooperative", "object_id": world.coop.id}).json
    assert [(a["id"], a["superseded"]) for a in listing["items"]] == [
        (first["id"], True), (second.json["id"], False)]
    row = db.session.get(Attachment, first["id"])
    row.filename = "changed.pdf"
    with pytest.raises(ImmutableAttachmentError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ImmutableAttachmentError):
        db.session.delete(db.session.get(Attachment, first["id"]))
        db.session.flush()
    db.session.rollback()


def test_the_same_bytes_twice_are_one_file(client, db, world, store):
    post(client, world.manager, PDF, "a.pdf", object_id=world.coop.id)
    post(client, world.manager, PDF, "b.pdf", object_id=world.coop.id, kind="sign_in_sheet")
    assert len([p for p in store.rglob("*") if p.is_file()]) == 1
    assert len(db.session.scalars(select(Attachment)).all()) == 2


def test_a_damaged_file_is_an_error_not_a_silent_download(client, db, world, store):
    body = post(client, world.manager, PDF, "a.pdf", object_id=world.coop.id).json
    path = store / body["sha256"][:2] / body["sha256"][2:4] / body["sha256"]
    path.chmod(0o644)
    path.write_bytes(b"%PDF-tampered")
    got = client.get(f"/api/v1/attachments/{body['id']}/content", headers=world.manager)
    assert got.status_code == 503 and got.json["code"] == "ATTACHMENT_DAMAGED"


def test_a_name_from_the_client_is_cleaned_and_gets_the_real_extension(client, db, world):
    body = post(client, world.manager, JPEG, "../../etc/公示\x00照片.pdf",
                object_id=world.coop.id).json
    assert body["filename"] == "公示_照片.jpg"


def test_the_store_and_the_limit_come_from_the_environment():
    from config import load_config
    cfg = load_config({"ATTACHMENT_DIR": "/srv/coop/attachments",
                       "ATTACHMENT_MAX_BYTES": "1048576"})
    assert (cfg["ATTACHMENT_DIR"], cfg["ATTACHMENT_MAX_BYTES"]) == ("/srv/coop/attachments",
                                                                   1_048_576)


def test_an_attachment_larger_than_the_spreadsheet_limit_is_accepted(app, client, db, world):
    """Photos and scans are larger than spreadsheets: the app's MAX_CONTENT_LENGTH (5 MiB)
    does not apply to this route, ATTACHMENT_MAX_BYTES (20 MiB) does."""
    scan = PDF + b"%" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    resp = post(client, world.manager, scan, "扫描件.pdf", object_id=world.coop.id)
    assert resp.status_code == 201, resp.json
    assert resp.json["size"] == len(scan)
