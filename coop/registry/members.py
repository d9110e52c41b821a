"""The member register (成员名册): add, correct, leave. Nothing is ever deleted.

Member types: farmer (农户), collective (村集体经济组织, exactly one per cooperative),
enterprise (企业、事业单位或社会组织), other. Organisations may give their unified social
credit code where a person gives an ID-card number.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.crypto as crypto
from coop.errors import Conflict, RuleViolation, ValidationFailed
from coop.pagination import PageQuery
from coop.registry import people
from coop.registry.cooperatives import ensure_open
from coop.registry.models import Cooperative, Member
from coop.validators import check_past_date, past_date_problem

ORGANISATION_TYPES = ("collective", "enterprise", "other")
SNAPSHOT_FIELDS = ("name", "member_type", "id_card_masked", "phone", "joined_on", "left_on",
                   "leave_reason", "status", "bank_name", "bank_account_masked")


def snapshot(member: Member) -> dict:
    """The audited state: numbers as masks only, the phone masked too."""
    state = {f: getattr(member, f) for f in SNAPSHOT_FIELDS}
    state["phone"] = crypto.mask_phone(member.phone)
    return state


def check_member(values: dict) -> tuple[dict, dict[str, str]]:
    """Normalize a member's fields and list what is wrong with them.

    Returns (clean values, {field: Chinese message}); used by the JSON routes and, row by
    row, by the spreadsheet import. Only the fields present in `values` are checked.
    """
    clean, problems = {}, {}
    if "name" in values:
        clean["name"] = (values["name"] or "").strip()
        if message := people.name_problem(clean["name"]):
            problems["name"] = message
    if "member_type" in values:
        clean["member_type"] = values["member_type"]
    if "id_card_no" in values:
        clean["id_card_no"] = people.compact(values["id_card_no"])
        organisation = values.get("member_type") in ORGANISATION_TYPES
        if message := people.id_card_problem(clean["id_card_no"], organisation=organisation):
            problems["id_card_no"] = message
    if "phone" in values:
        clean["phone"] = people.normalize_phone(values["phone"])
        if message := people.phone_problem(clean["phone"]):
            problems["phone"] = message
    for field in ("bank_name", "bank_account"):
        if field in values:
            raw = values[field]
            clean[field] = (people.compact(raw) if field == "bank_account"
                            else (raw or "").strip()) or None
    if "bank_name" in values or "bank_account" in values:
        problems.update(people.bank_problems(clean.get("bank_name"), clean.get("bank_account")))
    if "joined_on" in values:
        clean["joined_on"] = values["joined_on"]
        if (problem := past_date_problem(values["joined_on"])) is not None:
            problems["joined_on"] = problem
    return clean, problems


def member_columns(coop: Cooperative, clean: dict) -> dict:
    """The row to insert for a checked member (encrypting the numbers)."""
    return {
        "county_id": coop.county_id, "cooperative_id": coop.id, "name": clean["name"],
        "member_type": clean["member_type"], "phone": clean.get("phone"),
        "joined_on": clean["joined_on"], "status": "active",
        "bank_name": clean.get("bank_name"),
        "collective_of": coop.id if clean["member_type"] == "collective" else None,
        **people.id_card_columns(clean["id_card_no"]),
        **people.bank_account_columns(clean.get("bank_account")),
    }


def _refuse_duplicates(session: Session, coop_id: int, id_card_hash: str | None,
                       wants_collective: bool, own_id: int | None = None) -> None:
    if id_card_hash is not None:
        stmt = select(Member.id).where(Member.cooperative_id == coop_id,
                                       Member.id_card_hash == id_card_hash)
        if own_id is not None:
            stmt = stmt.where(Member.id != own_id)
        if session.execute(stmt.limit(1)).first() is not None:
            raise RuleViolation("该身份证号已在本社成员名册中（含已退社成员）",
                                code="ID_CARD_DUPLICATE",
                                errors={"id_card_no": ["本社已有该身份证号的成员"]})
    if wants_collective:
        stmt = select(Member.id).where(Member.collective_of == coop_id)
        if own_id is not None:
            stmt = stmt.where(Member.id != own_id)
        if session.execute(stmt.limit(1)).first() is not None:
            raise RuleViolation("每个合作社只能有一个村集体成员", code="COLLECTIVE_MEMBER_EXISTS",
                                errors={"member_type": ["本社已有村集体成员"]})


@contextmanager
def _register_race(session: Session, coop_id: int, id_card_hash: str | None,
                   wants_collective: bool, own_id: int | None = None):
    """A concurrent insert of the same person, or of a second collective, loses on the
    unique keys: answer with the rule it broke rather than a 500."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        _refuse_duplicates(session, coop_id, id_card_hash, wants_collective, own_id)
        raise Conflict("成员名册已被其他请求修改，请重试") from None


def add_member(session: Session, actor, coop: Cooperative, values: dict) -> Member:
    """Enter one member in the register (入社)."""
    ensure_open(coop)
    clean, problems = check_member(values)
    people.raise_field_problems(problems)
    id_hash = crypto.blind_index(clean["id_card_no"])
    wants_collective = clean["member_type"] == "collective"
    _refuse_duplicates(session, coop.id, id_hash, wants_collective)
    member = Member(**member_columns(coop, clean))
    with _register_race(session, coop.id, id_hash, wants_collective):
        session.add(member)
        session.flush()
        audit.record(session, actor, "member.create", "member", member.id,
                     after=snapshot(member))
        session.flush()
    return member


def update_member(session: Session, actor, member: Member, changes: dict) -> Member:
    """Correct a member's details. The ID-card number may be corrected; it stays unique."""
    coop = session.get(Cooperative, member.cooperative_id)
    ensure_open(coop)
    if "id_card_no" in changes or "member_type" in changes:
        # An organisation's code is only acceptable for an organisation member.
        changes.setdefault("member_type", member.member_type)
    if "bank_name" in changes or "bank_account" in changes:
        changes.setdefault("bank_name", member.bank_name)
        if "bank_account" not in changes and member.bank_account_enc:
            changes["bank_account"] = crypto.decrypt(member.bank_account_enc)
    clean, problems = check_member(changes)
    if "member_type" in changes and "id_card_no" not in changes:
        number = crypto.decrypt(member.id_card_enc)
        if message := people.id_card_problem(number, organisation=clean["member_type"]
                                             in ORGANISATION_TYPES):
            problems["member_type"] = "现有身份证号不适用于该成员类型：" + message
    people.raise_field_problems(problems)
    if member.status != "active" and clean.get("member_type") == "collective":
        raise Conflict("已退社的成员不能改为村集体成员")
    if member.left_on and clean.get("joined_on", member.joined_on) > member.left_on:
        raise ValidationFailed("入社日期不能晚于退社日期", errors={"joined_on": ["晚于退社日期"]})
    id_hash = crypto.blind_index(clean["id_card_no"]) if "id_card_no" in clean else None
    wants_collective = clean.get("member_type") == "collective"
    _refuse_duplicates(session, member.cooperative_id, id_hash,
                       wants_collective and member.collective_of is None, member.id)
    before = snapshot(member)
    if "id_card_no" in clean:
        for column, value in people.id_card_columns(clean.pop("id_card_no")).items():
            setattr(member, column, value)
    if "bank_account" in clean:
        for column, value in people.bank_account_columns(clean.pop("bank_account")).items():
            setattr(member, column, value)
    for field, value in clean.items():
        setattr(member, field, value)
    active_collective = member.member_type == "collective" and member.status == "active"
    member.collective_of = member.cooperative_id if active_collective else None
    after = snapshot(member)
    audit.record(session, actor, "member.update", "member", member.id,
                 before={k: v for k, v in before.items() if after[k] != v},
                 after={k: v for k, v in after.items() if before[k] != v})
    with _register_race(session, member.cooperative_id, id_hash, wants_collective, member.id):
        session.flush()
    return member


def leave(session: Session, actor, member: Member, on: date, reason: str) -> Member:
    """Record a member's leaving (退社); the row and its history stay.

    The collective's uniqueness slot is released, so a successor collective can join.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写退社原因", errors={"reason": ["不能为空"]})
    if member.status != "active":
        raise Conflict("该成员已退社")
    check_past_date(on, "on", "退社日期")
    if on < member.joined_on:
        raise ValidationFailed("退社日期不能早于入社日期", errors={"on": ["早于入社日期"]})
    before = snapshot(member)
    member.status, member.left_on, member.leave_reason = "left", on, reason
    member.collective_of = None
    audit.record(session, actor, "member.leave", "member", member.id, before=before,
                 after=snapshot(member))
    return member


def members_page(session: Session, cooperative_id: int, page: int, per_page: int, *,
                 status=None, member_type=None, q=None, id_card_no=None) -> dict:
    """A page of a cooperative's register, filtered, in id order, as rows of what
    `member_view` shows: never the encrypted ID card and bank account, their lookup hashes
    and the rest (less to send, parse and carry per row)."""
    values = {"cooperative_id": cooperative_id, "status": status, "member_type": member_type}
    if q:
        values["name_pattern"] = "%" + _like_escaped(q.strip()) + "%"
    if id_card_no:
        values["id_card_hash"] = crypto.blind_index(people.compact(id_card_no))
    query = _members(status is not None, member_type is not None, bool(q), bool(id_card_no))
    return query.page(session, page, per_page, values)


def _like_escaped(text: str) -> str:
    """`text` matched literally by LIKE … ESCAPE '/' (as SQLAlchemy's `autoescape`)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


# What `member_view` shows.
SHOWN = (Member.id, Member.cooperative_id, Member.name, Member.member_type,
         Member.id_card_masked, Member.phone, Member.joined_on, Member.left_on,
         Member.leave_reason, Member.status, Member.bank_name, Member.bank_account_masked,
         Member.created_at)


@lru_cache(maxsize=None)
def _members(by_status: bool, by_type: bool, by_name: bool, by_id_card: bool) -> PageQuery:
    """The register's statements for one shape of its filters, built once."""
    stmt = select(*SHOWN).where(Member.cooperative_id == bindparam("cooperative_id"))
    if by_status:
        stmt = stmt.where(Member.status == bindparam("status"))
    if by_type:
        stmt = stmt.where(Member.member_type == bindparam("member_type"))
    if by_name:
        stmt = stmt.where(Member.name.like(bindparam("name_pattern"), escape="/"))
    if by_id_card:
        stmt = stmt.where(Member.id_card_hash == bindparam("id_card_hash"))
    return PageQuery(stmt.order_by(Member.id), rows=True)


def member_view(member, reveal_phone: bool) -> dict:
    """A member (an object, or a row of `SHOWN`) as responses show it: ID card and bank
    account always masked."""
    return {
        "id": member.id, "cooperative_id": member.cooperative_id, "name": member.name,
        "member_type": member.member_type, "id_card_no": member.id_card_masked,
        "phone": people.shown_phone(member.phone, reveal_phone),
        "joined_on": member.joined_on, "left_on": member.left_on,
        "leave_reason": member.leave_reason, "status": member.status,
        "bank_name": member.bank_name, "bank_account": member.bank_account_masked,
        "created_at": member.created_at,
    }
