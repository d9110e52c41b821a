"""Registering cooperatives (合作社登记) and keeping their charter settings.

Use cases are plain functions `fn(session, actor, ...)`; they commit at the end and raise
`coop.errors` exceptions. Who may call them is decided by auth/policy.py in the routes.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import coop.audit as audit
from coop.errors import Conflict, RuleViolation
from coop.places.models import Village, Zone, ZoneVillage
import coop.crypto as crypto
from coop.registry import people
from coop.registry.models import Cooperative
from coop.validators import is_valid_credit_code

REGISTRATION_FIELDS = ("name", "credit_code", "village_id", "zone_id", "founded_on")
CHARTER_FIELDS = ("distribution_method", "land_rate_fen_per_mu", "labour_ticket_rate_fen",
                  "single_member_cap_rate", "collective_cap_applies", "industry")
SNAPSHOT_FIELDS = ("name", "credit_code", "county_id", "town_id", "village_id", "zone_id",
                   "founded_on", "status", "merged_into_id") + CHARTER_FIELDS + (
                   "bank_name", "bank_account_masked")
TERMINAL_STATUSES = ("closed", "merged", "transformed")


def snapshot(coop: Cooperative) -> dict:
    return {f: getattr(coop, f) for f in SNAPSHOT_FIELDS}


def ensure_open(coop: Cooperative) -> None:
    """A closed, merged or transformed cooperative keeps its records but takes no new ones."""
    if coop.status in TERMINAL_STATUSES:
        raise Conflict("该合作社已关停、合并或转型，不能再修改登记信息")


def lock(session: Session, coop: Cooperative) -> Cooperative:
    """Re-read the cooperative under a row lock: serializes checks-then-writes per coop."""
    return session.execute(select(Cooperative).where(Cooperative.id == coop.id)
                           .with_for_update().execution_options(populate_existing=True)
                           ).scalar_one()


def _credit_code(raw: str) -> str:
    code = (raw or "").strip().upper()
    if not is_valid_credit_code(code):
        raise RuleViolation("统一社会信用代码无效（GB 32100 校验位错误）",
                            code="CREDIT_CODE_INVALID",
                            errors={"credit_code": ["校验位错误或格式不正确"]})
    return code


def _refuse_taken_credit_code(session: Session, code: str, own_id: int | None = None) -> None:
    stmt = select(Cooperative.id).where(Cooperative.credit_code == code)
    if own_id is not None:
        stmt = stmt.where(Cooperative.id != own_id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise RuleViolation("该统一社会信用代码已登记", code="CREDIT_CODE_TAKEN",
                            errors={"credit_code": ["已被其他合作社使用"]})


def _check_zone(session: Session, zone: Zone | None, village: Village) -> None:
    if zone is None:
        return
    contains = session.execute(select(exists().where(ZoneVillage.zone_id == zone.id,
                                                     ZoneVillage.village_id == village.id))
                               ).scalar()
    if not contains or zone.county_id != village.county_id:
        raise RuleViolation("所选片区不包含该村", code="ZONE_MISMATCH",
                            errors={"zone_id": ["片区须包含合作社所在的村"]})


@contextmanager
def _credit_code_race(session: Session, code: str, own_id: int | None = None):
    """A concurrent registration of the same code hits the unique key: say which rule."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        _refuse_taken_credit_code(session, code, own_id)
        raise


def create_cooperative(session: Session, actor, values: dict, village: Village,
                       zone: Zone | None) -> Cooperative:
    """Register a cooperative led by `village`'s party branch (optionally in a zone).

    `village` and `zone` were loaded through the policy (inside the caller's county).
    """
    code = _credit_code(values["credit_code"])
    _refuse_taken_credit_code(session, code)
    _check_zone(session, zone, village)
    coop = Cooperative(
        county_id=village.county_id, town_id=village.town_id, village_id=village.id,
        zone_id=zone.id if zone else None, name=values["name"].strip(), credit_code=code,
        founded_on=values["founded_on"], industry=values.get("industry", "").strip(),
        status="active", **{f: values[f] for f in CHARTER_FIELDS
                            if f in values and f != "industry"})
    with _credit_code_race(session, code):
        session.add(coop)
        session.flush()
        audit.record(session, actor, "cooperative.create", "cooperative", coop.id,
                     after=snapshot(coop))
        session.flush()
    return coop


def update_cooperative(session: Session, actor, coop: Cooperative, changes: dict,
                       village: Village | None = None, zone: Zone | None = None
                       ) -> Cooperative:
    """Change registration and/or charter fields. Status changes go through lifecycle.py.

    The village may only move within the cooperative's own county: members, shares and
    plans carry the county id, so a move across counties would split the records.
    """
    ensure_open(coop)
    before = snapshot(coop)
    if "bank_name" in changes or "bank_account" in changes:
        set_bank_account(coop, changes.pop("bank_name", coop.bank_name),
                         changes.pop("bank_account", None), keep=coop.bank_account_enc)
    if "credit_code" in changes:
        changes["credit_code"] = _credit_code(changes["credit_code"])
        _refuse_taken_credit_code(session, changes["credit_code"], coop.id)
    if village is not None:
        if village.county_id != coop.county_id:
            raise RuleViolation("合作社只能迁至本县的村", code="VILLAGE_OUTSIDE_COUNTY",
                                errors={"village_id": ["须为本县的村"]})
        coop.village_id, coop.town_id = village.id, village.town_id
    if "zone_id" in changes:
        coop.zone_id = zone.id if zone else None
    for field in ("name", "industry"):
        if field in changes:
            changes[field] = changes[field].strip()
    for field, value in changes.items():
        if field not in ("village_id", "zone_id"):
            setattr(coop, field, value)
    if coop.zone_id is not None:
        _check_zone(session, zone or session.get(Zone, coop.zone_id),
                    village or session.get(Village, coop.village_id))
    after = snapshot(coop)
    if after != before:
        audit.record(session, actor, "cooperative.update", "cooperative", coop.id,
                     before={k: v for k, v in before.items() if after[k] != v},
                     after={k: v for k, v in after.items() if before[k] != v})
    with _credit_code_race(session, coop.credit_code, coop.id):
        session.flush()
    return coop


def set_bank_account(row, bank_name: str | None, account: str | None, keep: str | None = None
                     ) -> None:
    """Set a payee's bank account (the cooperative's basic account, an officer's, a
    manager's): both or neither, 10–30 digits, stored encrypted, shown masked. With only
    a new bank name, the account already on record (`keep`, encrypted) stays."""
    if account is None and keep and bank_name:
        account = crypto.decrypt(keep)
    account = people.compact(account) or None
    problems = people.bank_problems(bank_name, account)
    if problems:
        raise RuleViolation("银行账户有误", errors={k: [v] for k, v in problems.items()})
    row.bank_name = bank_name or None
    for column, value in people.bank_account_columns(account).items():
        setattr(row, column, value)


def filter_cooperatives(stmt, *, county_id=None, town_id=None, status=None, q=None):
    """Apply the list filters; `q` is a substring of the name (LIKE, wildcards escaped)."""
    if county_id is not None:
        stmt = stmt.where(Cooperative.county_id == county_id)
    if town_id is not None:
        stmt = stmt.where(Cooperative.town_id == town_id)
    if status is not None:
        stmt = stmt.where(Cooperative.status == status)
    if q:
        stmt = stmt.where(Cooperative.name.contains(q.strip(), autoescape=True))
    return stmt.order_by(Cooperative.id)


