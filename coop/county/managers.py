"""Who shares the managers' part of a reward (合作社其他管理人员), and where to pay them.

Managers of a cooperative for a year are the people whose seat or contract overlaps the
year (start ≤ 31 Dec, end empty or ≥ 1 Jan) AND whose role is one of the county rules'
`manager_roles` (default chair, director, professional_manager — supervisors and the
accountant are not managers unless the county says so): officers by their register role,
professional managers (职业经理人) as "professional_manager". The village party
secretary never takes from this pool (the secretary is paid the secretary's part): the
officer or manager who is the secretary in office is recognised by ID card when the
secretary's term has one, else by name.

One person, one share: rows with the same ID card (two seats, or a seat and a manager
contract, or seats in two cooperatives of the same village) count once, under their
first row in key order — officers by id, then professional managers by id.

Bank account: the person's own account on their officer or manager record; if none,
their member record in the same cooperative (same ID card); if none, the line is held.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coop.places.models import VillageSecretary
from coop.registry.models import Cooperative, Member, Officer, ProfessionalManager

ROLE_LABELS = {"chair": "理事长", "director": "理事", "supervisor_chair": "监事长",
               "supervisor": "监事", "accountant": "会计",
               "professional_manager": "职业经理人"}


@dataclass(frozen=True)
class Person:
    """A payee of the managers' part, with the account to pay."""

    key: str                      # "officer:12" | "professional_manager:4"
    sort_key: tuple
    name: str
    role: str
    cooperative_id: int
    id_card_hash: str
    member_id: int | None = None
    bank_name: str | None = None
    bank_account_enc: str | None = None
    bank_account_masked: str | None = None

    @property
    def reason(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def _officers(session: Session, coop_ids: list[int], year: int, roles) -> list[Person]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.execute(select(Officer).where(
        Officer.cooperative_id.in_(coop_ids), Officer.role.in_(list(roles)),
        Officer.start_on <= last,
        or_(Officer.end_on.is_(None), Officer.end_on >= first))).scalars()
    return [Person(key=f"officer:{o.id}", sort_key=(0, o.id), name=o.name, role=o.role,
                   cooperative_id=o.cooperative_id, id_card_hash=o.id_card_hash,
                   bank_name=o.bank_name, bank_account_enc=o.bank_account_enc,
                   bank_account_masked=o.bank_account_masked)
            for o in rows]


def _professional_managers(session: Session, coop_ids: list[int], year: int) -> list[Person]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.execute(select(ProfessionalManager).where(
        ProfessionalManager.cooperative_id.in_(coop_ids),
        ProfessionalManager.contract_start <= last,
        ProfessionalManager.contract_end >= first)).scalars()
    return [Person(key=f"professional_manager:{m.id}", sort_key=(1, m.id), name=m.name,
                   role="professional_manager", cooperative_id=m.cooperative_id,
                   id_card_hash=m.id_card_hash, bank_name=m.bank_name,
                   bank_account_enc=m.bank_account_enc,
                   bank_account_masked=m.bank_account_masked)
            for m in rows]


def _with_accounts(session: Session, people: list[Person]) -> list[Person]:
    """People without an account of their own get their member record's, if any."""
    lacking = [p for p in people if not p.bank_account_enc]
    if not lacking:
        return people
    members = session.execute(select(Member).where(
        Member.cooperative_id.in_({p.cooperative_id for p in lacking}),
        Member.id_card_hash.in_({p.id_card_hash for p in lacking}))).scalars()
    by_person = {(m.cooperative_id, m.id_card_hash): m for m in members}
    out = []
    for p in people:
        m = by_person.get((p.cooperative_id, p.id_card_hash))
        if p.bank_account_enc or m is None:
            out.append(p)
            continue
        out.append(replace(p, member_id=m.id, bank_name=m.bank_name,
                           bank_account_enc=m.bank_account_enc,
                           bank_account_masked=m.bank_account_masked))
    return out


def _is_secretary(person: Person, secretary: VillageSecretary | None) -> bool:
    if secretary is None:
        return False
    if secretary.id_card_hash:
        return person.id_card_hash == secretary.id_card_hash
    return person.name == secretary.name


def managers_of(session: Session, coops: list[Cooperative], year: int, roles,
                secretary: VillageSecretary | None) -> list[Person]:
    """The cooperatives' managers in `year` holding one of `roles`, one per person, the
    secretary excluded, in key order."""
    coop_ids = [c.id for c in coops]
    roles = set(roles)
    people = _officers(session, coop_ids, year, roles - {"professional_manager"})
    if "professional_manager" in roles:
        people += _professional_managers(session, coop_ids, year)
    seen: set[str] = set()
    managers = []
    for person in sorted(people, key=lambda p: p.sort_key):
        if person.id_card_hash in seen or _is_secretary(person, secretary):
            continue
        seen.add(person.id_card_hash)
        managers.append(person)
    return _with_accounts(session, managers)
