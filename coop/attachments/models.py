"""Attachments (附件): assembly minutes, sign-in sheets, the posted notice's photo,
contracts, subsidy evidence, bank receipts — files kept beside the object they prove.

A row names its object (`object_type`, `object_id`) and the file by its SHA-256 in the
store (coop/storage.py). Rows are never edited or deleted: a corrected file is a new row
that `supersedes` the old one. The scope columns copy the object's (county, cooperative,
member) so lists can be scoped in SQL; who may read or add is the object's own policy.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from coop.dbtypes import created_at, fk, intpk
from coop.extensions import db

__all__ = ["Attachment", "OBJECT_TYPES", "KINDS"]

OBJECT_TYPES = ("cooperative", "distribution", "subsidy_application", "payout_batch",
                "manager", "member")
KINDS = ("assembly_minutes", "sign_in_sheet", "notice_photo", "contract", "evidence",
         "bank_receipt", "other")


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[intpk]
    county_id: Mapped[int] = fk("counties.id", nullable=False, index=True)
    cooperative_id: Mapped[int | None] = fk("cooperatives.id", index=True)
    member_id: Mapped[int | None] = fk("members.id")
    object_type: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    supersedes_id: Mapped[int | None] = fk("attachments.id", unique=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[created_at]

    __table_args__ = (db.Index("ix_attachments_object", "object_type", "object_id", "id"),)


class ImmutableAttachmentError(RuntimeError):
    """Attachments are never edited or deleted; a new one supersedes."""


@event.listens_for(Attachment, "before_update")
def _refuse_update(mapper, connection, target):
    raise ImmutableAttachmentError(f"attachment {target.id} is immutable; supersede it")


@event.listens_for(Attachment, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise ImmutableAttachmentError(f"attachment {target.id} is immutable; supersede it")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is Attachment:
        raise ImmutableAttachmentError("attachments are immutable; supersede instead")
