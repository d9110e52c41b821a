"""Village party secretaries (村党组织书记) as dated terms (CONTRACT §10).

A term runs from `start_on` to `end_on` inclusive (NULL: still running); terms of one
village never overlap (422 TERM_OVERLAP), so "the secretary in office on a day" is at
most one person. The village's `party_secretary_name` people see is the one in office
today (China's calendar); the reward round asks who was in office on 31 December.
The secretary is a payee of the county (the 15% share): ID card and bank account are
stored encrypted and shown masked, as members' are.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import coop.audit as audit
import coop.clock as clock
import coop.crypto as crypto
from coop.errors import RuleViolation, ValidationFailed
from coop.places.models import Village, VillageSecretary
from coop.validators import is_valid_id_card, is_valid_phone

TERM_OVERLAP = "TERM_OVERLAP"
_ACCOUNT = re.compile(r"^[0-9]{10,30}$")
_SPACES = re.compile(r"[\s\-]+")


def _compact(raw: str | None) -> str:
    return _SPACES.sub("", raw or "").upper()


def in_office_on(session: Session, village_ids, day: date) -> dict[int, VillageSecretary]:
    """{village id: the term running on `day`} for the villages that have one."""
    ids = list(village_ids)
    if not ids:
        return {}
    rows = session.execute(select(VillageSecretary).where(
        VillageSecretary.village_id.in_(ids), VillageSecretary.start_on <= day,
        or_(VillageSecretary.end_on.is_(None), VillageSecretary.end_on >= day))).scalars()
    return {row.village_id: row for row in rows}


def secretary_on(session: Session, village_id: int, day: date) -> VillageSecretary | None:
    return in_office_on(session, [village_id], day).get(village_id)


def current_names(session: Session, villages) -> dict[int, str | None]:
    """Today's secretary's name of each village (None where the office is vacant)."""
    terms = in_office_on(session, [v.id for v in villages], clock.today())
    return {v.id: terms[v.id].name if v.id in terms else None for v in villages}


def _bank(values: dict, errors: dict) -> dict:
    """bank_name and bank_account come together; the account is 10–30 digits."""
    name, account = values.get("bank_name"), _compact(values.get("bank_account"))
    if account and not _ACCOUNT.match(account):
        errors["bank_account"] = ["应为 10 至 30 位数字"]
    if bool(name) != bool(account):
        errors.setdefault("bank_name" if account else "bank_account",
                          ["开户行和银行账号须同时填写"])
    if not account:
        return {"bank_name": None, "bank_account_enc": None, "bank_account_hash": None,
                "bank_account_masked": None}
    return {"bank_name": name, "bank_account_enc": crypto.encrypt(account),
            "bank_account_hash": crypto.blind_index(account),
            "bank_account_masked": crypto.mask_account(account)}


def _phone(raw: str | None, errors: dict) -> str | None:
    phone = _compact(raw).removeprefix("+86") or None
    if phone and not is_valid_phone(phone):
        errors["phone"] = ["不是有效的手机号（11 位，1 开头）"]
    return phone


def _refuse_overlap(session: Session, village_id: int, start: date, end: date | None,
                    own_id: int | None = None) -> None:
    stmt = select(VillageSecretary.id).where(
        VillageSecretary.village_id == village_id,
        or_(VillageSecretary.end_on.is_(None), VillageSecretary.end_on >= start))
    if end is not None:
        stmt = stmt.where(VillageSecretary.start_on <= end)
    if own_id is not None:
        stmt = stmt.where(VillageSecretary.id != own_id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise RuleViolation("该村书记任期与已有任期重叠", code=TERM_OVERLAP,
                            errors={"start_on": ["与已有任期重叠（先为前任填写离任日期）"]})


def snapshot(term: VillageSecretary) -> dict:
    return {"village_id": term.village_id, "name": term.name,
            "id_card_masked": term.id_card_masked, "start_on": term.start_on,
            "end_on": term.end_on, "bank_name": term.bank_name,
            "bank_account_masked": term.bank_account_masked,
            "phone": crypto.mask_phone(term.phone)}


def term_view(term: VillageSecretary) -> dict:
    today = clock.today()
    return {"id": term.id, "village_id": term.village_id,
            "person": {"name": term.name, "id_card_no": term.id_card_masked,
                       "phone": crypto.mask_phone(term.phone)},
            "start_on": term.start_on, "end_on": term.end_on,
            "bank_name": term.bank_name, "bank_account": term.bank_account_masked,
            "in_office": term.start_on <= today and (term.end_on is None
                                                     or term.end_on >= today)}


def _sync_village_name(session: Session, village: Village) -> None:
    """Keep the village row's record of the name in step with today's term."""
    term = secretary_on(session, village.id, clock.today())
    village.party_secretary_name = term.name if term else None


def add_term(session: Session, actor, village: Village, values: dict) -> VillageSecretary:
    """Open a term (POST /villages/{id}/secretaries)."""
    person = values["person"]
    errors: dict[str, list[str]] = {}
    id_card = _compact(person.get("id_card_no"))
    if id_card and not is_valid_id_card(id_card):
        errors["person"] = ["身份证号无效（校验位或出生日期错误）"]
    phone = _phone(person.get("phone"), errors)
    bank = _bank(values, errors)
    start, end = values["start_on"], values.get("end_on")
    if end is not None and end < start:
        errors["end_on"] = ["离任日期不能早于任职日期"]
    if errors:
        raise ValidationFailed("村书记信息有误", errors=errors)
    # The village row is the lock every term change of the village takes, so two
    # overlapping terms written at once cannot both pass the check.
    session.refresh(village, with_for_update=True)
    _refuse_overlap(session, village.id, start, end)
    term = VillageSecretary(
        county_id=village.county_id, village_id=village.id, name=person["name"],
        id_card_enc=crypto.encrypt(id_card) if id_card else None,
        id_card_hash=crypto.blind_index(id_card) if id_card else None,
        id_card_masked=crypto.mask_id_card(id_card) if id_card else None,
        phone=phone, start_on=start, end_on=end, **bank)
    session.add(term)
    session.flush()
    _sync_village_name(session, village)
    audit.record(session, actor, "village_secretary.create", "village_secretary", term.id,
                 after=snapshot(term))
    return term


def update_term(session: Session, actor, term: VillageSecretary, changes: dict
                ) -> VillageSecretary:
    """End a term, or change the secretary's phone or bank account (PATCH)."""
    village = session.get(Village, term.village_id)
    session.refresh(village, with_for_update=True)
    before = snapshot(term)
    errors: dict[str, list[str]] = {}
    if "phone" in changes:
        phone = _phone(changes["phone"], errors)
    if "bank_name" in changes or "bank_account" in changes:
        merged = {"bank_name": changes.get("bank_name", term.bank_name),
                  "bank_account": changes.get("bank_account")}
        if "bank_account" not in changes and term.bank_account_enc:
            merged["bank_account"] = crypto.decrypt(term.bank_account_enc)
        bank = _bank(merged, errors)
    if "end_on" in changes and changes["end_on"] is not None \
            and changes["end_on"] < term.start_on:
        errors["end_on"] = ["离任日期不能早于任职日期"]
    if errors:
        raise ValidationFailed("村书记信息有误", errors=errors)
    if "end_on" in changes:
        _refuse_overlap(session, village.id, term.start_on, changes["end_on"], term.id)
        term.end_on = changes["end_on"]
    if "phone" in changes:
        term.phone = phone
    if "bank_name" in changes or "bank_account" in changes:
        for column, value in bank.items():
            setattr(term, column, value)
    session.flush()
    _sync_village_name(session, village)
    audit.record(session, actor, "village_secretary.update", "village_secretary", term.id,
                 before=before, after=snapshot(term))
    return term


def terms_query(village: Village):
    return (select(VillageSecretary).where(VillageSecretary.village_id == village.id)
            .order_by(VillageSecretary.start_on.desc(), VillageSecretary.id.desc()))
