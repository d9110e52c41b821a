"""Officers (理事会、监事会、会计), professional managers (职业经理人) and commissioners
(全周期发展推进专员).

Terms are closed date ranges; an officer's `end_on` may be open (still serving).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth.models import COUNTY_ROLES, RoleAssignment, User
import coop.audit as audit
import coop.crypto as crypto
from coop.errors import NotFound, RuleViolation, ValidationFailed
from coop.registry import people
from coop.registry.cooperatives import ensure_open, lock, set_bank_account
from coop.registry.models import (BOARD_ROLES, SUPERVISORY_ROLES, Cooperative, Officer,
                                  ProfessionalManager)

# One person may not sit on the supervisory board while serving on the board, keeping
# the books or managing (监事不得由理事长、理事、经理和财务会计人员兼任).
SUPERVISED_ROLES = BOARD_ROLES + ("accountant",)
SINGLE_SEATS = ("chair", "supervisor_chair")


def _overlapping(start_col, end_col, start: date, end: date | None):
    """WHERE clause: the row's [start, end] term overlaps [start, end] (None = open)."""
    clauses = [or_(end_col.is_(None), end_col >= start)]
    if end is not None:
        clauses.append(start_col <= end)
    return clauses


def _officer_conflicts(session: Session, coop_id: int, role: str, id_card_hash: str,
                       start: date, end: date | None, own_id: int | None = None) -> None:
    stmt = select(Officer).where(Officer.cooperative_id == coop_id,
                                 *_overlapping(Officer.start_on, Officer.end_on,
                                               start, end))
    if own_id is not None:
        stmt = stmt.where(Officer.id != own_id)
    for other in session.execute(stmt).scalars():
        if other.id_card_hash == id_card_hash and other.role == role:
            raise RuleViolation("该人员在此任期内已担任该职务", code="OFFICER_DUPLICATE")
        if role in SINGLE_SEATS and other.role == role:
            raise RuleViolation("该任期内已有人担任此职务", code="OFFICE_OCCUPIED",
                                errors={"role": ["与现任人员任期重叠"]})
        if other.id_card_hash == id_card_hash and (
                (role in SUPERVISORY_ROLES and other.role in SUPERVISED_ROLES)
                or (role in SUPERVISED_ROLES and other.role in SUPERVISORY_ROLES)):
            raise RuleViolation("理事、理事长、会计不得兼任监事", code="OFFICES_INCOMPATIBLE",
                                errors={"role": ["与该人员现任职务不相容"]})


def _check_term(start: date, end: date | None, end_field: str) -> None:
    if end is not None and end < start:
        raise ValidationFailed("结束日期不能早于开始日期", errors={end_field: ["早于开始日期"]})


def _open_cooperative_of(session: Session, row) -> Cooperative:
    """The row's cooperative, locked, and still open for changes."""
    coop = lock(session, session.get(Cooperative, row.cooperative_id))
    ensure_open(coop)
    return coop


def _checked_phone(raw: str | None) -> str | None:
    phone = people.normalize_phone(raw)
    if message := people.phone_problem(phone):
        raise ValidationFailed("手机号" + message, errors={"phone": [message]})
    return phone


def officer_snapshot(officer: Officer) -> dict:
    return {"name": officer.name, "id_card_masked": officer.id_card_masked,
            "role": officer.role, "village_committee_member": officer.village_committee_member,
            "start_on": officer.start_on, "end_on": officer.end_on,
            "phone": crypto.mask_phone(officer.phone), "bank_name": officer.bank_name,
            "bank_account_masked": officer.bank_account_masked}


def add_officer(session: Session, actor, coop: Cooperative, values: dict) -> Officer:
    """Seat a person on the board or supervisory board, or as accountant, for a term."""
    ensure_open(coop)
    person = people.check_person(values["person"])
    _check_term(values["start_on"], values.get("end_on"), "end_on")
    coop = lock(session, coop)
    _officer_conflicts(session, coop.id, values["role"], person["id_card_hash"],
                       values["start_on"], values.get("end_on"))
    officer = Officer(county_id=coop.county_id, cooperative_id=coop.id, role=values["role"],
                      village_committee_member=values["village_committee_member"],
                      start_on=values["start_on"], end_on=values.get("end_on"), **person)
    set_bank_account(officer, values.get("bank_name"), values.get("bank_account"))
    session.add(officer)
    session.flush()
    audit.record(session, actor, "officer.create", "officer", officer.id,
                 after=officer_snapshot(officer))
    return officer


def update_officer(session: Session, actor, officer: Officer, changes: dict) -> Officer:
    """End a term, change the village-committee flag or the phone."""
    coop = _open_cooperative_of(session, officer)
    before = officer_snapshot(officer)
    if "phone" in changes:
        officer.phone = _checked_phone(changes["phone"])
    if "end_on" in changes:
        _check_term(officer.start_on, changes["end_on"], "end_on")
        _officer_conflicts(session, coop.id, officer.role, officer.id_card_hash,
                           officer.start_on, changes["end_on"], officer.id)
        officer.end_on = changes["end_on"]
    if "village_committee_member" in changes:
        officer.village_committee_member = changes["village_committee_member"]
    if "bank_name" in changes or "bank_account" in changes:
        set_bank_account(officer, changes.get("bank_name", officer.bank_name),
                         changes.get("bank_account"), keep=officer.bank_account_enc)
    audit.record(session, actor, "officer.update", "officer", officer.id, before=before,
                 after=officer_snapshot(officer))
    return officer


def _refuse_overlapping_contract(session: Session, coop_id: int, id_card_hash: str,
                                 start: date, end: date, own_id: int | None = None) -> None:
    stmt = select(ProfessionalManager.id).where(
        ProfessionalManager.cooperative_id == coop_id,
        ProfessionalManager.id_card_hash == id_card_hash,
        *_overlapping(ProfessionalManager.contract_start,
                      ProfessionalManager.contract_end, start, end))
    if own_id is not None:
        stmt = stmt.where(ProfessionalManager.id != own_id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise RuleViolation("该职业经理人在本社已有与此期间重叠的合同", code="CONTRACT_OVERLAP",
                            errors={"contract_start": ["与已有合同期间重叠"]})


def manager_snapshot(manager: ProfessionalManager) -> dict:
    return {"name": manager.name, "id_card_masked": manager.id_card_masked,
            "contract_start": manager.contract_start, "contract_end": manager.contract_end,
            "base_pay_fen_per_year": manager.base_pay_fen_per_year,
            "bonus_rate": manager.bonus_rate, "phone": crypto.mask_phone(manager.phone),
            "bank_name": manager.bank_name, "bank_account_masked": manager.bank_account_masked}


def add_manager(session: Session, actor, coop: Cooperative, values: dict
                ) -> ProfessionalManager:
    """Record a professional manager's contract; one person's contracts may not overlap."""
    ensure_open(coop)
    person = people.check_person(values["person"])
    _check_term(values["contract_start"], values["contract_end"], "contract_end")
    coop = lock(session, coop)
    _refuse_overlapping_contract(session, coop.id, person["id_card_hash"],
                                 values["contract_start"], values["contract_end"])
    manager = ProfessionalManager(
        county_id=coop.county_id, cooperative_id=coop.id,
        contract_start=values["contract_start"], contract_end=values["contract_end"],
        base_pay_fen_per_year=values["base_pay_fen_per_year"],
        bonus_rate=values.get("bonus_rate"), **person)
    set_bank_account(manager, values.get("bank_name"), values.get("bank_account"))
    session.add(manager)
    session.flush()
    audit.record(session, actor, "manager.create", "professional_manager", manager.id,
                 after=manager_snapshot(manager))
    return manager


def update_manager(session: Session, actor, manager: ProfessionalManager, changes: dict
                   ) -> ProfessionalManager:
    """Amend a contract: its end, pay, bonus rate, or the manager's phone."""
    coop = _open_cooperative_of(session, manager)
    before = manager_snapshot(manager)
    if "phone" in changes:
        manager.phone = _checked_phone(changes["phone"])
    if "contract_end" in changes:
        _check_term(manager.contract_start, changes["contract_end"], "contract_end")
        _refuse_overlapping_contract(session, coop.id, manager.id_card_hash,
                                     manager.contract_start, changes["contract_end"],
                                     manager.id)
        manager.contract_end = changes["contract_end"]
    for field in ("base_pay_fen_per_year", "bonus_rate"):
        if field in changes:
            setattr(manager, field, changes[field])
    if "bank_name" in changes or "bank_account" in changes:
        set_bank_account(manager, changes.get("bank_name", manager.bank_name),
                         changes.get("bank_account"), keep=manager.bank_account_enc)
    audit.record(session, actor, "manager.update", "professional_manager", manager.id,
                 before=before, after=manager_snapshot(manager))
    return manager


def officer_view(officer: Officer, reveal_phone: bool, today: date) -> dict:
    current = officer.start_on <= today and (officer.end_on is None or officer.end_on >= today)
    return {"id": officer.id, "cooperative_id": officer.cooperative_id,
            "person": people.person_view(officer, reveal_phone), "role": officer.role,
            "village_committee_member": officer.village_committee_member,
            "start_on": officer.start_on, "end_on": officer.end_on, "current": current,
            "bank_name": officer.bank_name, "bank_account": officer.bank_account_masked}


def manager_view(manager: ProfessionalManager, reveal_phone: bool) -> dict:
    return {"id": manager.id, "cooperative_id": manager.cooperative_id,
            "person": people.person_view(manager, reveal_phone),
            "contract_start": manager.contract_start, "contract_end": manager.contract_end,
            "base_pay_fen_per_year": manager.base_pay_fen_per_year,
            "bonus_rate": manager.bonus_rate, "bank_name": manager.bank_name,
            "bank_account": manager.bank_account_masked}


# --- commissioners ---------------------------------------------------------------------------

def _commissioner_query(coop_id: int):
    return (select(RoleAssignment, User.name).join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.role == "commissioner",
                   RoleAssignment.scope_type == "cooperative",
                   RoleAssignment.scope_id == coop_id))


def commissioners_query(coop: Cooperative):
    """The commissioners paired with a cooperative (rows of RoleAssignment, user name)."""
    return _commissioner_query(coop.id).order_by(RoleAssignment.id)


def commissioner_view(row) -> dict:
    assignment, name = row
    return {"id": assignment.id, "user_id": assignment.user_id, "name": name,
            "cooperative_id": assignment.scope_id, "created_at": assignment.created_at}


def pair_commissioner(session: Session, actor, coop: Cooperative, user_id: int):
    """Pair a county user with the cooperative: a read-only `commissioner` grant on it.

    Only a user holding a county role in the cooperative's own county qualifies; any
    other id (unknown, another county) gets the same answer, so nothing leaks.
    """
    ensure_open(coop)
    user = session.get(User, user_id)
    if user is None or user.status != "active" or not any(
            r.role in COUNTY_ROLES and r.scope_type == "county" and r.scope_id == coop.county_id
            for r in user.roles):
        raise RuleViolation("只能选派本县的县级用户担任专员", code="COMMISSIONER_INVALID",
                            errors={"user_id": ["须为本县县级用户"]})
    if session.execute(_commissioner_query(coop.id).where(RoleAssignment.user_id == user.id)
                       ).first() is not None:
        raise RuleViolation("该用户已是本社的专员", code="COMMISSIONER_EXISTS")
    assignment = RoleAssignment(user_id=user.id, role="commissioner",
                                scope_type="cooperative", scope_id=coop.id, department="")
    session.add(assignment)
    try:
        session.flush()
        audit.record(session, actor, "commissioner.pair", "cooperative", coop.id,
                     after={"user_id": user.id, "role_assignment_id": assignment.id})
        session.flush()
    except IntegrityError:
        raise RuleViolation("该用户已是本社的专员", code="COMMISSIONER_EXISTS") from None
    return session.execute(_commissioner_query(coop.id)
                           .where(RoleAssignment.id == assignment.id)).one()


def unpair_commissioner(session: Session, actor, coop: Cooperative, user_id: int) -> None:
    """End a pairing: the user's commissioner grant on this cooperative is removed."""
    row = session.execute(_commissioner_query(coop.id)
                          .where(RoleAssignment.user_id == user_id)).first()
    if row is None:
        raise NotFound()
    assignment = row[0]
    audit.record(session, actor, "commissioner.unpair", "cooperative", coop.id,
                 before={"user_id": user_id, "role_assignment_id": assignment.id})
    session.delete(assignment)
