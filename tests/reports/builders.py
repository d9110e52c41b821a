"""Payout data for report tests, written through coop.payouts.services.create_batch."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from coop.payouts.models import PayoutBatch, PayoutLine
from coop.payouts.services import Payee, create_batch
from coop.payouts.settlement import reverse_line

YEAR = 2024


@dataclass
class PayoutWorld:
    county: object
    towns: list
    coops: list
    members: dict = field(default_factory=dict)    # coop id → [members]
    other_county: object = None
    other_coop: object = None


def pay(session, county_id, coop, source, source_id, year, members_amounts,
        town_id="coop", cooperative_id="coop"):
    """One batch paying `members_amounts` [(member, fen)] of `coop` (may be None)."""
    payees = [Payee(payee_type="member", payee_name=m.name, amount_fen=fen,
                    cooperative_id=coop.id if coop else None,
                    town_id=(coop.town_id if coop else None) if town_id == "coop" else town_id,
                    member_id=m.id, bank_name=m.bank_name,
                    bank_account_enc=m.bank_account_enc,
                    bank_account_masked=m.bank_account_masked)
              for m, fen in members_amounts]
    batch = create_batch(session, None, county_id=county_id,
                         cooperative_id=(coop.id if coop else None)
                         if cooperative_id == "coop" else cooperative_id,
                         source=source, source_id=source_id, year=year, payees=payees)
    session.commit()
    return batch


def settle(session, batch, statuses):
    """Record bank results on the batch's lines in id order: 'paid' | 'failed' | None."""
    lines = session.execute(select(PayoutLine).where(PayoutLine.batch_id == batch.id)
                            .order_by(PayoutLine.id)).scalars().all()
    for n, (line, status) in enumerate(zip(lines, statuses)):
        if status:
            line.status = status
            line.bank_ref = f"BR{batch.id:04d}{n:04d}" if status == "paid" else None
            line.paid_on = date(YEAR, 6, 30) if status == "paid" else None
    session.commit()
    return lines


def reverse(session, line):
    """冲正 through the payouts capability: a new negative line in the same batch; the
    paid line and the batch total stay as they were."""
    return reverse_line(session, None, line, "账号错误", date(YEAR, 7, 1))


def payout_world(make, session) -> PayoutWorld:
    """Two towns; town A has cooperatives 0 and 1, town B cooperative 2. Distribution
    batches for each, a county-wide reward batch, a subsidy batch, one failed line, one
    reversal; plus noise that must stay out: another year and another county."""
    county = make.county(name="单县")
    towns = [make.town(county, name="终兴镇"), make.town(county, name="黄岗镇")]
    coops = [make.cooperative(make.village(towns[0])), make.cooperative(make.village(towns[0])),
             make.cooperative(make.village(towns[1]))]
    world = PayoutWorld(county, towns, coops)
    for i, coop in enumerate(coops):
        world.members[coop.id] = [make.member(coop, bank_account=f"62284800000000{i}{k:04d}")
                                  for k in range(3)]
    amounts = {0: (123_456, 7, 99_999_999), 1: (1, 2, 3), 2: (500_000, 250_001, 1_049)}
    batches = []
    for i, coop in enumerate(coops):
        batch = pay(session, county.id, coop, "distribution", 1000 + i, YEAR,
                    list(zip(world.members[coop.id], amounts[i])))
        batches.append(batch)
    lines = settle(session, batches[0], ["paid", "failed", "paid"])
    settle(session, batches[2], ["paid", "paid", None])
    reverse(session, lines[0])
    # A county-wide reward batch (no cooperative on the batch) paying into two towns;
    # one line has no town of its own (the report takes its cooperative's town).
    reward = [(world.members[coops[0].id][0], 3_000_000), (world.members[coops[2].id][1], 45_000)]
    payees = [Payee(payee_type="secretary", payee_name=m.name, amount_fen=fen,
                    cooperative_id=m.cooperative_id,
                    town_id=None if m.cooperative_id == coops[0].id else coops[2].town_id,
                    member_id=m.id, bank_account_masked=m.bank_account_masked)
              for m, fen in reward]
    create_batch(session, None, county_id=county.id, cooperative_id=None, source="reward",
                 source_id=77, year=YEAR, payees=payees)
    session.commit()
    pay(session, county.id, coops[1], "subsidy", 55, YEAR,
        [(world.members[coops[1].id][2], 1_000_000)])
    # Noise: last year's distribution, and a neighbouring county's.
    pay(session, county.id, coops[0], "distribution", 2000, YEAR - 1,
        [(world.members[coops[0].id][1], 888_888)])
    other = make.county(name="成武县")
    other_coop = make.cooperative(county=other)
    stranger = make.member(other_coop)
    pay(session, other.id, other_coop, "distribution", 3000, YEAR, [(stranger, 424_242)])
    world.other_county, world.other_coop = other, other_coop
    return world


def db_line_sum(session, **where) -> tuple[int, int]:
    """(count, SUM(amount_fen)) of payout lines matching column == value filters
    (`reversal=False` leaves the reversing lines out)."""
    stmt = select(func.count(PayoutLine.id), func.coalesce(func.sum(PayoutLine.amount_fen), 0))
    reversal = where.pop("reversal", None)
    if reversal is not None:
        stmt = stmt.where(PayoutLine.reverses_id.is_not(None) if reversal
                          else PayoutLine.reverses_id.is_(None))
    for column, value in where.items():
        stmt = stmt.where(getattr(PayoutLine, column) == value)
    count, total = session.execute(stmt).one()
    return int(count), int(total)


def db_batch_sum(session, county_id, year) -> int:
    return int(session.execute(
        select(func.coalesce(func.sum(PayoutBatch.total_fen), 0))
        .where(PayoutBatch.county_id == county_id, PayoutBatch.year == year)).scalar_one())
