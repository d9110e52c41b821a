"""The world the abuse tests attack: one county with two cooperatives, and a second county.

Three scopes, each with the same kinds of objects (members, share operation, plan, payout
batch, officer, manager, program, subsidy application, reward round, …):

* OWN — county A, cooperative A1: where every caller holds their role.
* FOREIGN_COOP — cooperative A2 in the same county A (inside a county role's scope,
  outside a cooperative role's or a member's).
* FOREIGN_COUNTY — county B with cooperative B1 (outside everybody's scope).

Every name of a foreign object carries the scope's marker (外社 / 外县), and the member
caller's fellow members carry 邻员, so a test can say which strings a caller must never
see. Rows are written directly (the way the services leave them) or through the
factories and services; the matrix is about access, not about the figures.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select, text

from auth import users
from auth.models import SCOPE_OF_ROLE
from auth.policy import Grant
from coop.attachments.models import Attachment
from coop.county.models import (CollectiveIncomeItem, EvaluationScore, Program, RewardLine,
                                RewardRound, RewardRule, SubsidyApplication)
from coop.distribution.models import AnnualAccount, DistributionLine, DistributionPlan, Trade
from coop.extensions import db
from coop.notifications.models import Notification
from coop.places.cities import City
from coop.payouts.models import PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.places.models import VillageSecretary
from coop.registry.models import Cooperative, CooperativeStatusChange, Member
from coop.shares.models import ShareOperation
from coop.storage import attachment_store
from tests.conftest import empty_all_tables
from tests.county.conftest import add_officer, add_professional_manager
from tests.distribution.builders import give_capital
from tests.factories import Factory

OWN, FOREIGN_COOP, FOREIGN_COUNTY = "own", "foreign_coop", "foreign_county"
SCOPES = (OWN, FOREIGN_COOP, FOREIGN_COUNTY)
ROLES = ("county_admin", "county_finance", "county_reviewer", "coop_manager",
         "commissioner", "member", "city_viewer")
YEAR = 2024
DEPARTMENT = "organization"     # the county_reviewer caller's department

# Name prefixes: own objects carry none of the foreign markers.
PREFIX = {OWN: "本", FOREIGN_COOP: "外社", FOREIGN_COUNTY: "外县"}
NEIGHBOUR = "邻员"               # another member of A1: not the member caller's business
FOREIGN_TO = {                  # what a holder of a role on OWN must never see
    "county": ("外县",),
    "city": ("外县",),          # county A's city; county B lies in another city
    "cooperative": ("外社", "外县"),
    "member": (NEIGHBOUR, "外社", "外县"),
}


@dataclass
class World:
    ids: dict                   # scope → {kind: id or value}
    headers: dict               # caller ("anonymous", a role, "superuser") → headers
    users: dict = field(default_factory=dict)     # caller → user id

    def id(self, scope: str, kind: str):
        return self.ids[scope][kind]

    def forbidden_markers(self, caller: str) -> tuple:
        if caller in ("anonymous", "superuser"):
            return ()
        return FOREIGN_TO[SCOPE_OF_ROLE[caller]]

    def allowed_scope_ids(self, caller: str) -> dict:
        """{field name: ids the caller may see in a field of that name}."""
        own = self.ids[OWN]
        kind = SCOPE_OF_ROLE[caller]
        if kind in ("county", "city"):
            return {"county_id": {own["county"]}}
        allowed = {"county_id": {own["county"]}, "cooperative_id": {own["coop"]}}
        if kind == "member":
            allowed["member_id"] = {own["member"]}
        return allowed


def _scope(make: Factory, session, county, scope: str, creator, town_name: str) -> dict:
    p = PREFIX[scope]
    town = make.town(county, name=town_name)
    village = make.village(town, name=f"{p}村", secretary=f"{p}书记")
    zone = make.zone([village], name=f"{p}片区")
    coop = make.cooperative(village, name=f"{p}合作社")
    neighbour_name = NEIGHBOUR + "甲" if scope == OWN else f"{p}乙员"
    member = make.member(coop, name=f"{p}成员")
    neighbour = make.member(coop, name=neighbour_name)
    give_capital(session, coop, {member: 1_000_000, neighbour: 2_000_000})
    op = ShareOperation(county_id=coop.county_id, cooperative_id=coop.id, member_id=member.id,
                        type="subscribe", kind="cash", amount_fen=50_000,
                        effective_on=date(YEAR, 5, 1), status="submitted", note=f"{p}入股")
    officer = add_officer(session, coop, f"{p}理事")
    manager = add_professional_manager(session, coop, f"{p}经理")
    session.add_all([
        op,
        CooperativeStatusChange(county_id=coop.county_id, cooperative_id=coop.id,
                                from_status="active", to_status="active",
                                reason=f"{p}登记"),
        AnnualAccount(county_id=coop.county_id, cooperative_id=coop.id, year=YEAR,
                      revenue_fen=3_000_000, cost_fen=1_000_000),
        Trade(county_id=coop.county_id, cooperative_id=coop.id, member_id=member.id,
              year=YEAR, amount_fen=10_000, occurred_on=date(YEAR, 6, 1), note=f"{p}交易"),
        CollectiveIncomeItem(county_id=county.id, village_id=village.id, year=YEAR,
                             source="entered", source_id=0, amount_fen=123_400),
    ])
    now = datetime.now(timezone.utc)
    plan = DistributionPlan(county_id=coop.county_id, cooperative_id=coop.id, year=YEAR,
                            live_year=YEAR, method="statutory", reserve_rate=Decimal("0.10"),
                            status="publicized", basis_digest="0" * 64, surplus_fen=2_000_000,
                            distributable_fen=1_800_000, line_count=2,
                            public_token=secrets.token_urlsafe(24), notice_days=30,
                            notice_starts_at=now, notice_ends_at=now + timedelta(days=30),
                            submitted_at=now, created_by=creator.id)
    session.add(plan)
    session.flush()
    for m, fen in ((member, 600_000), (neighbour, 1_200_000)):
        session.add(DistributionLine(plan_id=plan.id, county_id=coop.county_id,
                                     cooperative_id=coop.id, member_id=m.id,
                                     total_fen=fen, patronage_fen=fen))
    batch = create_batch(session, None, county_id=coop.county_id, cooperative_id=coop.id,
                         source="distribution", source_id=plan.id, year=YEAR, payees=[
                             Payee(payee_type="member", payee_name=m.name, amount_fen=fen,
                                   cooperative_id=coop.id, town_id=coop.town_id,
                                   member_id=m.id, bank_name=m.bank_name,
                                   bank_account_enc=m.bank_account_enc,
                                   bank_account_masked=m.bank_account_masked)
                             for m, fen in ((member, 600_000), (neighbour, 1_200_000))])
    session.flush()
    line = session.execute(select(PayoutLine).where(PayoutLine.batch_id == batch.id,
                                                    PayoutLine.member_id == member.id)
                           ).scalar_one()
    # A paid line: the one a reversal would name.
    line.status, line.bank_ref, line.paid_on = "paid", f"{scope[:4].upper()}0001", date(YEAR, 7, 1)
    program = Program(county_id=county.id, name=f"{p}专项资金", year=YEAR,
                      budget_fen=100_000_000, created_by=creator.id)
    session.add(program)
    session.flush()
    application = SubsidyApplication(county_id=coop.county_id, cooperative_id=coop.id,
                                     program_id=program.id, amount_fen=10_000,
                                     purpose=f"{p}冷库", created_by=creator.id)
    # One live round per county and year: the two scopes of county A use two years.
    round_year = YEAR - 1 if scope == FOREIGN_COOP else YEAR
    reward_round = RewardRound(county_id=county.id, year=round_year, live_year=round_year,
                               status="draft", program_id=program.id,
                               excellent_award_fen=30_000_000, secretary_rate=Decimal("0.15"),
                               managers_rate=Decimal("0.15"), total_fen=30_000_000,
                               line_count=1, created_by=creator.id)
    session.add_all([application, reward_round])
    session.flush()
    session.add_all([
        RewardLine(round_id=reward_round.id, county_id=county.id, cooperative_id=coop.id,
                   village_id=village.id, kind="award", payee_key=f"cooperative:{coop.id}",
                   payee_type="cooperative", payee_name=coop.name, amount_fen=30_000_000),
        EvaluationScore(county_id=county.id, cooperative_id=coop.id, year=YEAR,
                        department="finance", score=90, opinion=f"{p}良好",
                        reviewer_id=creator.id),
    ])
    if scope != FOREIGN_COOP:
        session.add(RewardRule(county_id=county.id, year=YEAR, excellent_award_fen=30_000_000,
                               secretary_rate=Decimal("0.15"), managers_rate=Decimal("0.15"),
                               excellent_min_score=90, good_min_score=80, pass_min_score=60,
                               program_id=program.id))
    session.commit()
    # The user a county admin manages in this scope: a commissioner of the cooperative
    # who is also its coop_manager (the role DELETE may remove, so the commissioner route
    # still finds its commissioner). Created the way the CLI does, so the audit log holds
    # a `user.create` row with the name.
    target = users.create_user(session, None, phone=f"137{county.id:04d}{coop.id:04d}",
                               name=f"{p}委员", password=None, roles=[
                                   Grant("commissioner", "cooperative", coop.id),
                                   Grant("coop_manager", "cooperative", coop.id)])
    manager_role = next(r for r in target.roles if r.role == "coop_manager")
    return {"county": county.id, "town": town.id, "village": village.id, "zone": zone.id,
            "coop": coop.id, "member": member.id, "neighbour": neighbour.id, "op": op.id,
            "officer": officer.id, "manager": manager.id, "plan": plan.id,
            "token": plan.public_token, "batch": batch.id, "line": line.id,
            "program": program.id, "application": application.id,
            "reward_round": reward_round.id, "user": target.id, "role": manager_role.id,
            "secretary": session.execute(select(VillageSecretary.id).where(
                VillageSecretary.village_id == village.id)).scalar_one()}


def build_world() -> World:
    """Empty every table and write the three scopes and one caller per role (commits)."""
    empty_all_tables()
    session = db.session
    make = Factory(session)
    county_a = make.county(name="本县")
    county_b = make.county(name="外县")
    creator = make.user("county_finance", county_a, name="经办人")   # four eyes: not a caller
    ids = {OWN: _scope(make, session, county_a, OWN, creator, "本镇"),
           FOREIGN_COOP: _scope(make, session, county_a, FOREIGN_COOP, creator, "外社镇"),
           FOREIGN_COUNTY: _scope(make, session, county_b, FOREIGN_COUNTY,
                                  make.user("county_finance", county_b, name="外县经办"),
                                  "外县镇")}
    own = ids[OWN]
    # County A lies in city A; county B in city B (the foreign city).
    city_a, city_b = City(name="本市", code="371700"), City(name="外市", code="371800")
    session.add_all([city_a, city_b])
    session.flush()
    county_a.city_id, county_b.city_id = city_a.id, city_b.id
    session.commit()
    for scope, city in ((OWN, city_a), (FOREIGN_COOP, city_a), (FOREIGN_COUNTY, city_b)):
        ids[scope]["city"] = city.id
    scope_rows = {"county": county_a, "cooperative": session.get(Cooperative, own["coop"]),
                  "member": session.get(Member, own["member"]), "city": city_a}
    callers = {role: make.user(role, scope_rows[SCOPE_OF_ROLE[role]], name=f"本{role}",
                               department=DEPARTMENT if role == "county_reviewer" else "")
               for role in ROLES}
    callers["superuser"] = make.user(name="超级用户", superuser=True)
    headers = {caller: make.headers(user) for caller, user in callers.items()}
    for scope in SCOPES:    # one inbox message per scope, to someone of that scope
        owner = callers["coop_manager"].id if scope == OWN else ids[scope]["user"]
        note = Notification(user_id=owner, event="task_created", kind="operation_to_approve",
                            title=f"{PREFIX[scope]}通知", body=f"{PREFIX[scope]}入股待审核",
                            object_type="share_operation", object_id=ids[scope]["op"],
                            fields="{}", due_at=datetime.now(timezone.utc))
        session.add(note)
        session.flush()
        ids[scope]["notification"] = note.id
    for scope in SCOPES:    # one attachment per scope, on its member
        member = session.get(Member, ids[scope]["member"])
        data = f"%PDF-1.4 {PREFIX[scope]}成员附件".encode()
        attachment = Attachment(
            county_id=member.county_id, cooperative_id=member.cooperative_id,
            member_id=member.id, object_type="member", object_id=member.id, kind="other",
            filename="附件.pdf", content_type="application/pdf", size=len(data),
            sha256=attachment_store().put(data))
        session.add(attachment)
        session.flush()
        ids[scope]["attachment"] = attachment.id
    session.commit()
    headers["anonymous"] = {}
    return World(ids=ids, headers=headers, users={c: u.id for c, u in callers.items()})


def row_count() -> int:
    """Rows in every table plus the audit chains' lengths: one number that any write moves."""
    tables = db.metadata.sorted_tables
    total = 0
    for chunk in range(0, len(tables), 20):
        parts = " + ".join(f"(SELECT COUNT(*) FROM {t.name})" for t in tables[chunk:chunk + 20])
        total += db.session.execute(text(f"SELECT {parts}")).scalar_one()
    seq = db.session.execute(text("SELECT COALESCE(SUM(seq), 0) FROM audit_head")).scalar_one()
    return int(total) + int(seq)
