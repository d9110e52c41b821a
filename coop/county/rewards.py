"""Reward rules and reward rounds (优秀合作社奖励与收入增量提成).

Reward rule, per county and year (all of it data, never constants here):
* each cooperative graded `excellent` receives `excellent_award_fen` (the one-time award);
* increase = max(0, income(year) − income(year − 1)) of the cooperative's lead village
  collective (coop/county/income.py: the sum of the year's breakdown);
* the village party secretary receives secretary_rate × increase, and the cooperative's
  other managers share managers_rate × increase; each product is rounded half-up to a
  whole fen (coop.money.apply_rate) before it is split;
* the managers' pool is split into equal shares with coop.money.split (largest
  remainder): parts differ by at most one fen, and the odd fen go to the payees first
  in payee-key order (officers by id, then professional managers by id), so the split
  is deterministic and sums exactly to the pool. See coop/county/managers.py for who
  counts as a manager. With no other manager, the pool is not paid out.
* if several excellent cooperatives share one lead village, that village's increase is
  rewarded once: one secretary line, and one pool split among all their managers.

A round is a draft until a county_finance user other than its creator approves it
(四眼原则, 403 FOUR_EYES_REQUIRED). Approval reserves the round's total against the
rules' program (422 BUDGET_EXCEEDED) and writes one payout batch (source "reward").
At most one draft-or-approved round exists per county and year (a unique key), and a
round's batch is unique too, so re-running a round never pays anyone twice.
"""
from __future__ import annotations

import logging

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.models import DEPARTMENTS
import coop.audit as audit
from coop.county.evaluations import grade, rule_for, scores_by_cooperative
from coop.county.guards import live_round, refuse_if_round_live
from coop.county.income import incomes
from coop.county.managers import managers_of
from coop.county.models import RewardLine, RewardRound, RewardRule, RoundStatus
from coop.county.programs import (FOUR_EYES_REQUIRED, mark_disbursed, program_of_county,
                                  reserve, unmark_disbursed)
from coop.dbtypes import utcnow
from coop.errors import Conflict, Forbidden, RuleViolation, ValidationFailed
from coop.money import apply_rate, split
from coop.payouts.services import Payee, create_batch
from coop.places.models import County, Village
from coop.places.secretaries import in_office_on
from coop.registry.models import Cooperative, CooperativeStatusChange
from coop.transaction import flush_or_conflict, transition
from coop.validators import check_year

log = logging.getLogger(__name__)

RULE_FIELDS = ("excellent_award_fen", "secretary_rate", "managers_rate",
               "excellent_min_score", "good_min_score", "pass_min_score", "program_id",
               "award_once", "manager_roles")
ELIGIBLE_STATUSES = ("active", "standardized")


def set_rules(session: Session, actor, county: County, year: int, values: dict) -> RewardRule:
    """Create or replace the county's reward rules for `year` (奖励办法).

    Thresholds must satisfy pass ≤ good ≤ excellent; the program must be the county's.
    Frozen while a round of that year is draft or approved (409).
    """
    check_year(year)
    if not values["pass_min_score"] <= values["good_min_score"] <= values["excellent_min_score"]:
        raise ValidationFailed("分数线须满足 合格 ≤ 良好 ≤ 优秀", errors={
            "good_min_score": ["pass_min_score ≤ good_min_score ≤ excellent_min_score"]})
    program_of_county(session, values["program_id"], county.id)
    refuse_if_round_live(session, county.id, year)
    values = {**values, "manager_roles": ",".join(values["manager_roles"])}
    rule = rule_for(session, county.id, year)
    before = None if rule is None else {f: getattr(rule, f) for f in RULE_FIELDS}
    if rule is None:
        rule = RewardRule(county_id=county.id, year=year)
        session.add(rule)
    for field in RULE_FIELDS:
        setattr(rule, field, values[field])
    rule.updated_by = actor.id
    flush_or_conflict(session, "奖励规则正被同时修改，请重试")
    audit.record(session, actor, "reward_rules.set", "county", county.id, before=before,
                 after={"year": year, **values})
    return rule


@dataclass(frozen=True)
class _Line:
    cooperative_id: int
    village_id: int
    kind: str
    payee_key: str
    payee_type: str
    payee_name: str
    amount_fen: int
    reason: str
    income_prev_fen: int | None = None
    income_fen: int | None = None
    rate: Decimal | None = None
    member_id: int | None = None
    bank_name: str | None = None
    bank_account_enc: str | None = None
    bank_account_masked: str | None = None


def _account(payee) -> dict:
    return {"member_id": getattr(payee, "member_id", None), "bank_name": payee.bank_name,
            "bank_account_enc": payee.bank_account_enc,
            "bank_account_masked": payee.bank_account_masked}


def status_on(session: Session, coop: Cooperative, day: date) -> str:
    """The cooperative's lifecycle status at the end of China's `day`, from its kept
    status changes by the day each took effect (the status now if nothing changed after
    that day)."""
    changes = session.execute(select(CooperativeStatusChange).where(
        CooperativeStatusChange.cooperative_id == coop.id)
        .order_by(CooperativeStatusChange.effective_on, CooperativeStatusChange.changed_at,
                  CooperativeStatusChange.id)).scalars()
    for change in changes:
        if change.effective_on > day:
            return change.from_status
    return coop.status


def _excellent_cooperatives(session: Session, county_id: int, year: int,
                            rule: RewardRule) -> list[Cooperative]:
    """Graded excellent for the year, and active or standardized both on 31 December
    of the year and now (no reward to a cooperative since found a shell, or closed)."""
    scores = scores_by_cooperative(session, county_id, year)
    partial = sorted(cid for cid, rows in scores.items() if len(rows) < len(DEPARTMENTS))
    if partial:
        raise RuleViolation("仍有合作社的考核未完成（三个部门均须评分）",
                            code="EVALUATIONS_PENDING",
                            errors={"cooperative_ids": [str(c) for c in partial]})
    ids = sorted(cid for cid, rows in scores.items()
                 if grade([r.score for r in rows], rule) == "excellent")
    if not ids:
        return []
    coops = session.execute(select(Cooperative).where(Cooperative.id.in_(ids))
                            .order_by(Cooperative.id)).scalars()
    year_end = date(year, 12, 31)
    return [c for c in coops if c.status in ELIGIBLE_STATUSES
            and status_on(session, c, year_end) in ELIGIBLE_STATUSES]


def _awarded_before(session: Session, coop_ids: list[int], year: int) -> set[int]:
    """Cooperatives that received the award in an approved round of an earlier year."""
    if not coop_ids:
        return set()
    return set(session.execute(
        select(RewardLine.cooperative_id).join(RewardRound,
                                               RewardRound.id == RewardLine.round_id)
        .where(RewardLine.kind == "award", RewardLine.cooperative_id.in_(coop_ids),
               RewardRound.status == RoundStatus.APPROVED, RewardRound.year < year)
    ).scalars())


def increase_shares(increase_fen: int, secretary_rate: Decimal, managers_rate: Decimal,
                    manager_keys: list) -> tuple[int, list[int]]:
    """The secretary's fen and each manager's fen of a village's income increase.

    Pure: rate × increase rounded half-up per part, then the managers' pool split into
    equal shares by largest remainder (odd fen to the first keys). No managers → no pool.
    """
    increase_fen = max(0, increase_fen)
    secretary_fen = apply_rate(increase_fen, secretary_rate)
    if not manager_keys:
        return secretary_fen, []
    pool = apply_rate(increase_fen, managers_rate)
    return secretary_fen, split(pool, [1] * len(manager_keys), list(manager_keys))


def manager_roles_of(rule: RewardRule) -> list[str]:
    return [r for r in (rule.manager_roles or "").split(",") if r]


def _basis(session: Session, villages: dict[int, Village], year: int
           ) -> tuple[dict, dict, dict[str, list[str]]]:
    """Each village's income for the year and the year before, and its secretary in
    office on 31 December; every missing figure, keyed `village:<id>`."""
    found = incomes(session, villages, (year - 1, year))
    terms = in_office_on(session, villages, date(year, 12, 31))
    missing: dict[str, list[str]] = {}
    for village_id, village in sorted(villages.items()):
        reasons = [f"{y} 年村集体收入未录入" for y in (year - 1, year)
                   if (village_id, y) not in found]
        if village_id not in terms:
            reasons.append(f"{year} 年 12 月 31 日无在任村党组织书记")
        if reasons:
            missing[f"village:{village_id}"] = [f"{village.name}：{r}" for r in reasons]
    return found, terms, missing


def compute_lines(session: Session, county_id: int, year: int, rule: RewardRule) -> list[_Line]:
    """Every payee of the county's reward round for `year`, amounts in fen; 422
    REWARD_BASIS_INCOMPLETE listing every village's missing figure at once."""
    coops = _excellent_cooperatives(session, county_id, year, rule)
    by_village: dict[int, list[Cooperative]] = {}
    for coop in coops:
        by_village.setdefault(coop.village_id, []).append(coop)
    villages = {v.id: v for v in session.execute(
        select(Village).where(Village.id.in_(list(by_village)))).scalars()}
    found, terms, missing = _basis(session, villages, year)
    if missing:
        raise RuleViolation("奖励测算所需数据不全，请补齐后再测算",
                            code="REWARD_BASIS_INCOMPLETE", errors=missing)
    awarded = _awarded_before(session, [c.id for c in coops], year) if rule.award_once else set()
    lines = [_Line(cooperative_id=c.id, village_id=c.village_id, kind="award",
                   payee_key=f"cooperative:{c.id}", payee_type="cooperative",
                   payee_name=c.name, amount_fen=rule.excellent_award_fen,
                   reason="考核优秀", **_account(c))
             for c in coops if rule.excellent_award_fen and c.id not in awarded]
    roles = manager_roles_of(rule)
    for village_id, group in sorted(by_village.items()):
        now, prev = found[(village_id, year)], found[(village_id, year - 1)]
        secretary = terms[village_id]
        basis = {"village_id": village_id, "income_prev_fen": prev, "income_fen": now}
        managers = managers_of(session, group, year, roles, secretary)
        secretary_fen, parts = increase_shares(now - prev, rule.secretary_rate,
                                               rule.managers_rate,
                                               [m.sort_key for m in managers])
        if secretary_fen:
            lines.append(_Line(cooperative_id=group[0].id, kind="secretary",
                               payee_key=f"secretary:village:{village_id}",
                               payee_type="secretary", payee_name=secretary.name,
                               amount_fen=secretary_fen, reason="村党组织书记",
                               rate=rule.secretary_rate, **basis, **_account(secretary)))
        lines += [_Line(cooperative_id=m.cooperative_id, kind="manager", payee_key=m.key,
                        payee_type="manager", payee_name=m.name, amount_fen=part,
                        reason=m.reason, rate=rule.managers_rate, **basis, **_account(m))
                  for m, part in zip(managers, parts) if part]
    return lines


def create_round(session: Session, actor, county: County, year: int) -> RewardRound:
    """Compute a draft reward round for the county's excellent cooperatives of `year`."""
    check_year(year)
    rule = rule_for(session, county.id, year)
    if rule is None:
        raise RuleViolation("该年度尚未设定奖励规则", code="REWARD_RULES_MISSING")
    if live_round(session, county.id, year) is not None:
        raise Conflict("该年度已有奖励轮次（草稿或已批准）")
    lines = compute_lines(session, county.id, year, rule)
    if not lines:
        raise RuleViolation("该年度没有应奖励的优秀合作社", code="NOTHING_TO_REWARD")
    rnd = RewardRound(county_id=county.id, year=year, live_year=year, status=RoundStatus.DRAFT,
                      program_id=rule.program_id, excellent_award_fen=rule.excellent_award_fen,
                      secretary_rate=rule.secretary_rate, managers_rate=rule.managers_rate,
                      total_fen=sum(x.amount_fen for x in lines), line_count=len(lines),
                      created_by=actor.id)
    session.add(rnd)
    # The unique (county_id, live_year) key decides between two concurrent creations.
    flush_or_conflict(session, "该年度已有奖励轮次（草稿或已批准）")
    session.add_all([RewardLine(round_id=rnd.id, county_id=county.id, **vars(x))
                     for x in lines])
    audit.record(session, actor, "reward_round.create", "reward_round", rnd.id,
                 after={"county_id": county.id, "year": year, "total_fen": rnd.total_fen,
                        "line_count": rnd.line_count})
    return rnd


def round_lines(session: Session, rnd: RewardRound) -> list[RewardLine]:
    """The round's lines in the order they were computed."""
    return list(session.execute(select(RewardLine).where(RewardLine.round_id == rnd.id)
                                .order_by(RewardLine.id)).scalars())


def _decide(session: Session, actor, rnd: RewardRound, to_status: RoundStatus,
            **values) -> dict:
    """Move a draft round to `to_status`, or 409 if it is no longer a draft."""
    before = {"status": rnd.status, "total_fen": rnd.total_fen}
    live_year = rnd.year if to_status == RoundStatus.APPROVED else None
    transition(session, rnd, RoundStatus.DRAFT, "奖励轮次当前状态不允许此操作",
               status=to_status, live_year=live_year, decided_by=actor.id,
               decided_at=utcnow(), **values)
    return before


def approve_round(session: Session, actor, rnd: RewardRound) -> RewardRound:
    """Approve a draft round: reserve its total in the program, write its payout batch."""
    if rnd.created_by == actor.id:
        raise Forbidden("奖励轮次须由创建人以外的财政人员批准", code=FOUR_EYES_REQUIRED)
    before = _decide(session, actor, rnd, RoundStatus.APPROVED)
    reserve(session, rnd.program_id, rnd.total_fen)
    lines = round_lines(session, rnd)
    towns = dict(session.execute(select(Village.id, Village.town_id).where(
        Village.id.in_({x.village_id for x in lines}))).all())
    batch = create_batch(
        session, actor, county_id=rnd.county_id, cooperative_id=None, source="reward",
        source_id=rnd.id, year=rnd.year,
        payees=[Payee(payee_type=x.payee_type, payee_name=x.payee_name,
                      amount_fen=x.amount_fen, cooperative_id=x.cooperative_id,
                      town_id=towns[x.village_id], member_id=x.member_id,
                      bank_name=x.bank_name, bank_account_enc=x.bank_account_enc,
                      bank_account_masked=x.bank_account_masked)
                for x in lines])
    rnd.payout_batch_id = batch.id
    audit.record(session, actor, "reward_round.approve", "reward_round", rnd.id, before=before,
                 after={"status": RoundStatus.APPROVED, "total_fen": rnd.total_fen,
                        "program_id": rnd.program_id, "payout_batch_id": batch.id})
    return rnd


def close_round(session: Session, actor, rnd: RewardRound, to_status: RoundStatus,
                reason: str) -> RewardRound:
    """Reject or cancel a draft round; the year is then free for a new round."""
    action = {"rejected": "reward_round.reject", "cancelled": "reward_round.cancel"}[to_status]
    before = _decide(session, actor, rnd, to_status, reason=reason)
    audit.record(session, actor, action, "reward_round", rnd.id, before=before,
                 after={"status": to_status, "reason": reason})
    return rnd


def settle_paid(session: Session, round_id: int, amount_fen: int) -> None:
    """Move `amount_fen` of a round's paid lines from committed to disbursed in its
    program. Called by payout results in their transaction (the caller commits)."""
    rnd = session.get(RewardRound, round_id)
    if rnd is None:
        # A reward batch written without a round (a data import) has no budget to settle.
        log.warning("reward batch without a round", extra={"round_id": round_id})
        return
    mark_disbursed(session, rnd.program_id, amount_fen)


def settle_reversed(session: Session, round_id: int, amount_fen: int) -> None:
    """A paid reward line was reversed: its money is owed again (committed) until the
    re-issue is paid. Called by payouts/settlement.reverse_line in its transaction."""
    rnd = session.get(RewardRound, round_id)
    if rnd is None:
        log.warning("reward batch without a round", extra={"round_id": round_id})
        return
    unmark_disbursed(session, rnd.program_id, amount_fen)
