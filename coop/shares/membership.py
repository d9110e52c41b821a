"""Who may receive shares on a date (成员资格): checked at submission and at approval."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from coop.errors import RuleViolation, ValidationFailed
from coop.registry.models import Cooperative, Member


def member_of(session: Session, coop: Cooperative, member_id, field: str) -> Member:
    """The member `member_id` of `coop`, freshly read; 422 if not one of its members."""
    member = (session.get(Member, member_id, populate_existing=True)
              if isinstance(member_id, int) else None)
    if member is None or member.cooperative_id != coop.id:
        raise RuleViolation("该成员不属于本合作社", code="MEMBER_NOT_IN_COOPERATIVE",
                            errors={field: ["not a member of this cooperative"]})
    return member


def is_member_on(member: Member, on: date) -> bool:
    return (member.status != "left" and member.joined_on <= on
            and (member.left_on is None or member.left_on > on))


def check_receiving(member: Member, on: date, kind: str) -> None:
    """A subscriber must be a member on the date; a former member (holds nothing) may
    subscribe again and so becomes active again. 集体资产股 belongs to the collective."""
    if not is_member_on(member, on):
        raise RuleViolation("该成员在生效日期不是本社成员，不能认购", code="MEMBER_NOT_ACTIVE",
                            errors={"member_id": ["not a member on effective_on"]})
    if kind == "collective_asset" and member.member_type != "collective":
        raise RuleViolation("集体资产股只能由村集体成员持有", code="KIND_NOT_ALLOWED",
                            errors={"kind": ["collective_asset is for the collective member"]})


def transferee(session: Session, coop: Cooperative, member: Member, to_member_id,
               on: date) -> Member:
    """The member receiving a transfer. Shares go only to members: someone who has not
    joined yet, has left, or holds nothing any more (former) must first join or
    subscribe, else 422 TRANSFEREE_NOT_MEMBER."""
    if to_member_id is None:
        raise ValidationFailed("转让须指定受让成员", errors={"to_member_id": ["required"]})
    to_member = member_of(session, coop, to_member_id, "to_member_id")
    if to_member.id == member.id:
        raise ValidationFailed("不能转让给自己", errors={"to_member_id": ["same as member_id"]})
    if to_member.status == "former" or not is_member_on(to_member, on):
        raise RuleViolation("受让人在生效日期不是本社成员", code="TRANSFEREE_NOT_MEMBER",
                            errors={"to_member_id": ["not a member on effective_on"]})
    return to_member
