"""Who shares the managers' part of a reward (合作社其他管理人员), and where to pay them.

Managers of a cooperative for a year are
* its officers (理事长、理事、监事长、监事、会计 — every role of the register) whose term
  overlaps the year (start_on ≤ 31 Dec, end_on empty or ≥ 1 Jan), and
* its professional managers (职业经理人) whose contract overlaps the year,
excluding the village party secretary, who is paid the secretary's part instead. The
village record holds only the secretary's name, so the secretary is recognised by
name (normally the chair, 书记兼理事长).

One person, one share: rows with the same ID card (two seats, or a seat and a manager
contract, or seats in two cooperatives of the same village) count once, under their
first row in key order — officers by id, then professional managers by id.

Bank account: taken from the person's member record in the same cooperative (same ID
card), if there is one; otherwise the line has no account and the bank file leaves it
for finance to fill in. The secretary is paid to the account of the officer who is the
secretary, if any.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coop.registry.models import Cooperative, Member, Officer, ProfessionalManager


@dataclass(frozen=True)
class Person:
    """A payee of the managers' or the secretary's part, with the account to pay."""

    key: str                      # "officer:12" | "professional_manager:4"
    sort_key: tuple
    name: str
    cooperative_id: int
    id_card_hash: str
    member_id: int | None = None
    bank_name: str | None = None
    bank_account_enc: str | None = None
    bank_account_masked: str | None = None


def _officers(session: Session, coop_ids: list[int], year: int) -> list[Person]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.execute(select(Officer).where(
        Officer.cooperative_id.in_(coop_ids), Officer.start_on <= last,
        or_(Officer.end_on.is_(None), Officer.end_on >= first))).scalars()
    return [Person(key=f"officer:{o.id}", sort_key=(0, o.id), name=o.name,
                   cooperative_id=o.cooperative_id, id_card_hash=o.id_card_hash)
            for o in rows]


def _professional_managers(session: Session, coop_ids: list[int], year: int) -> list[Person]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.execute(select(ProfessionalManager).where(
        ProfessionalManager.cooperative_id.in_(coop_ids),
        ProfessionalManager.contract_start <= last,
        ProfessionalManager.contract_end >= first)).scalars()
    return [Person(key=f"professional_manager:{m.id}", sort_key=(1, m.id), name=m.name,
                   cooperative_id=m.cooperative_id, id_card_hash=m.id_card_hash)
            for m in rows]


def _with_accounts(session: Session, people: list[Person]) -> list[Person]:
    """Attach the bank account of each person's member record in the same cooperative."""
    if not people:
        return []
    members = session.execute(select(Member).where(
        Member.cooperative_id.in_({p.cooperative_id for p in people}),
        Member.id_card_hash.in_({p.id_card_hash for p in people}))).scalars()
    by_person = {(m.cooperative_id, m.id_card_hash): m for m in members}
    out = []
    for p in people:
        m = by_person.get((p.cooperative_id, p.id_card_hash))
        if m is None:
            out.append(p)
            continue
        out.append(Person(**{**vars(p), "member_id": m.id, "bank_name": m.bank_name,
                             "bank_account_enc": m.bank_account_enc,
                             "bank_account_masked": m.bank_account_masked}))
    return out


def _people(session: Session, coops: list[Cooperative], year: int) -> list[Person]:
    coop_ids = [c.id for c in coops]
    people = _officers(session, coop_ids, year) + _professional_managers(session, coop_ids, year)
    return sorted(people, key=lambda p: p.sort_key)


def managers_of(session: Session, coops: list[Cooperative], year: int,
                secretary_name: str | None) -> list[Person]:
    """The cooperatives' managers active in `year`, one per person, secretary excluded,
    in key order."""
    seen: set[str] = set()
    managers = []
    for person in _people(session, coops, year):
        if person.id_card_hash in seen or (secretary_name and person.name == secretary_name):
            continue
        seen.add(person.id_card_hash)
        managers.append(person)
    return _with_accounts(session, managers)


def secretary_account(session: Session, coops: list[Cooperative], year: int,
                      secretary_name: str) -> Person | None:
    """The officer who is the village's party secretary (by name), with their account."""
    for person in _people(session, coops, year):
        if person.key.startswith("officer:") and person.name == secretary_name:
            return _with_accounts(session, [person])[0]
    return None
