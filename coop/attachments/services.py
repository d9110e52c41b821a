"""Adding and reading attachments. Services never commit (the unit of work does)."""
from __future__ import annotations

import os
import re
import unicodedata

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.attachments.filetypes import EXTENSIONS, TYPES, sniff
from coop.attachments.models import Attachment
from coop.errors import Conflict, TooLarge, ValidationFailed
from coop.storage import attachment_store

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_FILENAME = 120
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def clean_filename(raw: str | None, kind: str) -> str:
    """The name people see: the upload's base name without path or control characters,
    its extension the one the bytes are (a .pdf that is a JPEG is saved as .jpg)."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = _UNSAFE.sub("_", os.path.splitext(name)[0]).strip(" ._") or "附件"
    return stem[:MAX_FILENAME] + EXTENSIONS[kind]


def scope_of(obj) -> dict:
    """The attachment's scope columns, copied from its object."""
    member_id = getattr(obj, "member_id", None) if obj.__tablename__ == "members" else None
    return {"county_id": obj.county_id, "cooperative_id": getattr(obj, "cooperative_id", None),
            "member_id": member_id}


def add(session: Session, actor, object_type: str, obj, kind: str, filename: str,
        data: bytes, supersedes_id: int | None = None) -> Attachment:
    """Store the file and name it on `obj` (already scope-checked by the route)."""
    if len(data) > max_bytes():
        raise TooLarge(f"附件不能超过 {max_bytes() / (1024 * 1024):.0f} MB")
    if not data:
        raise ValidationFailed("文件为空", errors={"file": ["空文件"]})
    file_type = sniff(data)
    if supersedes_id is not None:
        old = session.get(Attachment, supersedes_id)
        if old is None or (old.object_type, old.object_id) != (object_type, obj.id):
            raise ValidationFailed("被替换的附件不属于该对象",
                                   errors={"supersedes_id": ["不是该对象的附件"]})
        taken = session.execute(select(Attachment.id).where(
            Attachment.supersedes_id == supersedes_id)).first()
        if taken is not None:
            raise Conflict("该附件已被替换过，请替换最新的版本")
    digest = attachment_store().put(data)
    attachment = Attachment(object_type=object_type, object_id=obj.id, kind=kind,
                            filename=clean_filename(filename, file_type),
                            content_type=TYPES[file_type], size=len(data), sha256=digest,
                            supersedes_id=supersedes_id, created_by=getattr(actor, "id", None),
                            **scope_of(obj))
    session.add(attachment)
    session.flush()
    audit.record(session, actor, "attachment.create", "attachment", attachment.id,
                 after={"object_type": object_type, "object_id": obj.id, "kind": kind,
                        "filename": attachment.filename, "content_type": attachment.content_type,
                        "size": attachment.size, "sha256": digest,
                        "supersedes_id": supersedes_id})
    return attachment


def superseded_ids(session: Session, ids: list[int]) -> set[int]:
    """Which of `ids` a later attachment supersedes."""
    if not ids:
        return set()
    return set(session.execute(select(Attachment.supersedes_id).where(
        Attachment.supersedes_id.in_(ids))).scalars())


def content(attachment: Attachment) -> bytes:
    return attachment_store().read(attachment.sha256)
