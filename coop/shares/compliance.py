"""Compliance figures a county checks (CONTRACT §3, domain.md).

Statutory limits (Farmer Professional Cooperatives Law, 2017): at least five members
(Art. 12); farmers at least 80% of members; with twenty members or fewer at most one
enterprise/institution member, above twenty at most 5% (Art. 20). The single-holder cap
is the charter's `single_member_cap_rate`; the cross-appointment (交叉任职) floor is a
county setting passed in by the caller.

Every `ok` is decided on exact integer arithmetic; the ratios are shown as decimal
strings rounded half-up to four places.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from coop.registry.models import BOARD_ROLES, SUPERVISORY_ROLES, Cooperative, Member, Officer
from coop.shares.register import member_totals_as_of

MIN_MEMBERS = 5
MIN_FARMER_RATE = Decimal("0.80")
SMALL_COOP_MAX_MEMBERS = 20
SMALL_COOP_MAX_ENTERPRISES = 1
MAX_ENTERPRISE_RATE = Decimal("0.05")
_PLACES = Decimal("0.0001")


def ratio_text(part: int, whole: int) -> str:
    if not whole:
        return "0.0000"
    return str((Decimal(part) / Decimal(whole)).quantize(_PLACES, rounding=ROUND_HALF_UP))


def _at_least(part: int, whole: int, rate: Decimal) -> bool:
    """part / whole ≥ rate, exactly (no rounding)."""
    return whole > 0 and Decimal(part) >= rate * whole


def _member_counts(session: Session, coop_id: int, today: date) -> dict[str, int]:
    """Members on the register today, by type (joined, not left, not a former member)."""
    rows = session.execute(
        select(Member.member_type, func.count())
        .where(Member.cooperative_id == coop_id, Member.joined_on <= today,
               Member.status != "former",
               or_(Member.left_on.is_(None), Member.left_on > today))
        .group_by(Member.member_type)).all()
    return {member_type: int(n) for member_type, n in rows}


def _largest_holder(session: Session, coop: Cooperative, today: date) -> dict:
    totals = member_totals_as_of(session, coop.id, today)
    total = sum(totals.values())
    exempt = set()
    if not coop.collective_cap_applies:
        exempt = set(session.execute(select(Member.id).where(
            Member.cooperative_id == coop.id, Member.member_type == "collective")).scalars())
    capped = {m: fen for m, fen in totals.items() if m not in exempt}
    member_id, holding = max(capped.items(), key=lambda kv: (kv[1], -kv[0]),
                             default=(None, 0))
    cap = coop.single_member_cap_rate
    return {"member_id": member_id, "holding_fen": holding, "total_fen": total,
            "holders": len(totals), "ratio": ratio_text(holding, total),
            "cap_rate": cap, "collective_exempt": not coop.collective_cap_applies,
            "ok": total == 0 or Decimal(holding) <= cap * total}


def _cross_appointment(session: Session, coop_id: int, today: date,
                       min_rate: Decimal) -> dict:
    """Share of the people now on the board or supervisory board who also sit on the
    village committee; a person holding two seats counts once."""
    rows = session.execute(
        select(Officer.id_card_hash, func.max(case((Officer.village_committee_member, 1), else_=0)))
        .where(Officer.cooperative_id == coop_id,
               Officer.role.in_(BOARD_ROLES + SUPERVISORY_ROLES), Officer.start_on <= today,
               or_(Officer.end_on.is_(None), Officer.end_on >= today))
        .group_by(Officer.id_card_hash)).all()
    people = len(rows)
    cross = sum(1 for _, flag in rows if flag)
    return {"officers": people, "village_committee_members": cross,
            "ratio": ratio_text(cross, people), "minimum_rate": min_rate,
            "ok": _at_least(cross, people, min_rate)}


def compliance_report(session: Session, coop: Cooperative, today: date,
                      cross_appointment_min_rate: Decimal) -> dict:
    """The county's compliance figures for one cooperative as of `today`."""
    counts = _member_counts(session, coop.id, today)
    members = sum(counts.values())
    farmers = counts.get("farmer", 0)
    enterprises = counts.get("enterprise", 0)
    if members <= SMALL_COOP_MAX_MEMBERS:
        enterprise_limit = SMALL_COOP_MAX_ENTERPRISES
    else:
        enterprise_limit = int(MAX_ENTERPRISE_RATE * members)  # floor: "不得超过 5%"
    report = {
        "cooperative_id": coop.id,
        "as_of": today,
        "member_count": {"value": members, "minimum": MIN_MEMBERS,
                         "ok": members >= MIN_MEMBERS},
        "farmer_ratio": {"farmers": farmers, "members": members,
                         "ratio": ratio_text(farmers, members),
                         "minimum_rate": MIN_FARMER_RATE,
                         "ok": _at_least(farmers, members, MIN_FARMER_RATE)},
        "enterprise_members": {"value": enterprises, "members": members,
                               "limit": enterprise_limit, "ok": enterprises <= enterprise_limit},
        "largest_holder_ratio": _largest_holder(session, coop, today),
        "cross_appointment_ratio": _cross_appointment(session, coop.id, today,
                                                      cross_appointment_min_rate),
    }
    report["ok"] = all(v["ok"] for v in report.values() if isinstance(v, dict))
    return report
