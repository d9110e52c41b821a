"""成员编号: a member's number on the cooperative's register.

Members are numbered 1, 2, 3 … in the order they were entered in the cooperative's
register (by id). Nothing on the register is ever deleted, so a number never changes
and is never reused; it is derived, not stored. The member roster, the share register
document, the certificate and the public notice all print it, so two members whose masked
names read alike (刘*, 刘*) are told apart by it.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coop.registry.models import Member


def register_numbers(session: Session, cooperative_id: int) -> dict[int, int]:
    """{member_id: number} of every member of the cooperative."""
    ids = session.execute(select(Member.id).where(Member.cooperative_id == cooperative_id)
                          .order_by(Member.id)).scalars()
    return {member_id: number for number, member_id in enumerate(ids, start=1)}


def register_number(session: Session, member: Member) -> int:
    """One member's number: how many of the cooperative's members were entered up to it."""
    return session.execute(select(func.count()).select_from(Member).where(
        Member.cooperative_id == member.cooperative_id, Member.id <= member.id)).scalar_one()


def display(number: int) -> str:
    """As printed: at least three digits (007), so a column of numbers lines up."""
    return f"{number:03d}"
