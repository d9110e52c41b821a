"""The surplus maths (盈余分配, Arts. 40, 42, 44), pure: plain values in, plain values out.

No Flask, no database: `distribute(account, rules, members)` is the whole rule book, and
every amount is integer fen. The steps, in order:

1. 盈余 surplus = revenue − cost. It first covers the prior losses (弥补亏损); what is left
   is the year's surplus after losses.
2. 公积金 reserve = reserve_rate × that, rounded half-up to the fen (四舍五入).
3. 可分配盈余 distributable = what is left after the reserve. If nothing is left the year
   has no plan: NO_DISTRIBUTABLE_SURPLUS (a loss year is carried forward, not "paid" as 0).
4. Fiscal subsidy received this year is quantified equally (平均量化) to the members on the
   roll at 31 December (everyone in the plan if nobody is on the roll); the odd fen go to
   the lowest member ids. It is not money paid out: it weighs in the share pool.
5. `statutory` (法定): the patronage pool (按交易量返还) is patronage_rate (≥ 0.60, default
   0.60) × distributable, rounded UP to the fen so rounding never undercuts 60%; it is
   split by each member's transaction volume of the year. The rest, the share pool, is
   split by contribution (year-end capital, all kinds) + reserve-fund share brought forward
   + quantified subsidy share (brought forward and this year's). No transaction volume at
   all → NO_TRADE_VOLUME: the law's 60% has no basis, and we do not silently fold it into
   shares (the charter can say `by_shares` instead).
   `by_shares` (按股分红, the Yantai method): all of it by year-end capital.
   A positive pool with nothing to weigh it by → NO_SHARE_BASIS.
6. This year's reserve is quantified (量化) to members in proportion to what each receives
   from this year's distributable surplus (patronage + share): the reserve held back from a
   member's surplus is credited to that member's account. It cannot weigh in its own
   year's share pool (it is derived from it), so the pool uses the balance brought forward.

Every division is `coop.money.split` (largest remainder, ties to the lower member id), so
the lines add up exactly to `distributable_fen`, and each part is within one fen of its
exact share. Under `statutory` a member has two parts; split on their own, both could
round up (or down) and leave the member's total up to two fen off. A controlled-rounding
pass (`_keep_totals_within_a_fen`) then moves single fen between members inside one pool
(never between pools) until every total is also within one fen of its exact value.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Sequence

from coop.money import apply_rate, split

STATUTORY = "statutory"
BY_SHARES = "by_shares"
METHODS = (STATUTORY, BY_SHARES)
MIN_PATRONAGE_RATE = Decimal("0.60")  # Art. 44: at least 60% by transaction volume
RESERVE_ROUNDING = ROUND_HALF_UP
PATRONAGE_ROUNDING = ROUND_CEILING


class DistributionError(ValueError):
    """A year that cannot be distributed as asked; `code` is the contract's 422 code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class YearAccount:
    """The cooperative's annual account (年度账目), in fen."""

    revenue_fen: int
    cost_fen: int
    prior_loss_fen: int = 0
    fiscal_subsidy_fen: int = 0


@dataclass(frozen=True)
class Rules:
    """The charter's method and the rates the plan asks for (Decimal, never float)."""

    method: str
    reserve_rate: Decimal
    patronage_rate: Decimal | None = None


@dataclass(slots=True)
class MemberBasis:
    """What one member brings to the year: the basis of their line."""

    member_id: int
    capital_fen: int = 0            # contribution held on 31 December (出资额)
    trade_fen: int = 0              # transaction volume of the year (交易额)
    reserve_balance_fen: int = 0    # reserve-fund share brought forward (公积金份额)
    subsidy_balance_fen: int = 0    # quantified subsidy brought forward (财政补助量化份额)
    on_roll: bool = True            # still a member on 31 December


@dataclass(slots=True)
class Line:
    member_id: int
    capital_fen: int
    trade_fen: int
    share_basis_fen: int      # the member's weight in the share pool
    subsidy_share_fen: int    # this year's subsidy quantified to the member
    reserve_share_fen: int    # this year's reserve quantified to the member
    patronage_fen: int
    share_fen: int
    total_fen: int


@dataclass(frozen=True)
class Plan:
    surplus_fen: int
    loss_covered_fen: int
    reserve_fen: int
    distributable_fen: int
    patronage_pool_fen: int
    share_pool_fen: int
    subsidy_fen: int
    trade_total_fen: int
    share_basis_total_fen: int
    lines: tuple[Line, ...]


def distribute(account: YearAccount, rules: Rules, members: Sequence[MemberBasis]) -> Plan:
    """The year's distribution plan; raises DistributionError with a 422 code."""
    check_rules(rules)
    _check_account(account)
    members = _checked_members(members)
    ids = [m.member_id for m in members]

    surplus = account.revenue_fen - account.cost_fen
    loss_covered = min(account.prior_loss_fen, max(surplus, 0))
    after_loss = max(surplus, 0) - loss_covered
    reserve = apply_rate(after_loss, rules.reserve_rate, RESERVE_ROUNDING)
    distributable = after_loss - reserve
    if distributable <= 0:
        raise DistributionError(
            "NO_DISTRIBUTABLE_SURPLUS",
            f"本年度盈余 {surplus} 分，弥补亏损 {loss_covered} 分、提取公积金 {reserve} 分后"
            "没有可分配盈余")

    subsidy_shares = _quantify_subsidy(account.fiscal_subsidy_fen, members)
    trades = [m.trade_fen for m in members]
    if rules.method == STATUTORY:
        basis = [m.capital_fen + m.reserve_balance_fen + m.subsidy_balance_fen + s
                 for m, s in zip(members, subsidy_shares)]
        if sum(trades) == 0:
            raise DistributionError("NO_TRADE_VOLUME",
                                    "本年度没有成员交易量，无法按交易量返还；请先录入交易量")
        rate = MIN_PATRONAGE_RATE if rules.patronage_rate is None else rules.patronage_rate
        patronage_pool = apply_rate(distributable, rate, PATRONAGE_ROUNDING)
    else:
        basis = [m.capital_fen for m in members]
        patronage_pool = 0
    share_pool = distributable - patronage_pool
    if share_pool and sum(basis) == 0:
        raise DistributionError("NO_SHARE_BASIS", "没有成员持有出资或量化份额，无法按股分配")

    patronage = split(patronage_pool, trades, ids) if patronage_pool else [0] * len(ids)
    shares = split(share_pool, basis, ids)
    _keep_totals_within_a_fen(patronage_pool, trades, patronage, share_pool, basis, shares, ids)
    totals = [p + s for p, s in zip(patronage, shares)]
    reserve_shares = split(reserve, totals, ids)

    # Positional, column by column (the order of Line's fields): a county run makes
    # 75,500 of these.
    lines = tuple(map(Line, ids, [m.capital_fen for m in members], trades, basis,
                      subsidy_shares, reserve_shares, patronage, shares, totals))
    return Plan(surplus_fen=surplus, loss_covered_fen=loss_covered, reserve_fen=reserve,
                distributable_fen=distributable, patronage_pool_fen=patronage_pool,
                share_pool_fen=share_pool, subsidy_fen=account.fiscal_subsidy_fen,
                trade_total_fen=sum(trades), share_basis_total_fen=sum(basis), lines=lines)


def check_rules(rules: Rules) -> None:
    """Refuse an unknown method or a rate outside what the law and the method allow."""
    if rules.method not in METHODS:
        raise DistributionError("VALIDATION_FAILED", f"未知的分配方式 {rules.method!r}")
    if not isinstance(rules.reserve_rate, Decimal) or not 0 <= rules.reserve_rate <= 1:
        raise DistributionError("VALIDATION_FAILED", "公积金提取比例须在 0 到 1 之间")
    rate = rules.patronage_rate
    if rules.method == BY_SHARES:
        if rate is not None:
            raise DistributionError("VALIDATION_FAILED", "按股分配的合作社不适用交易量返还比例")
        return
    if rate is None:
        return
    if not isinstance(rate, Decimal) or rate > 1:
        raise DistributionError("VALIDATION_FAILED", "交易量返还比例须在 0.60 到 1 之间")
    if rate < MIN_PATRONAGE_RATE:
        raise DistributionError("PATRONAGE_BELOW_MINIMUM",
                                "按交易量返还的比例不得低于可分配盈余的 60%")


def _check_account(account: YearAccount) -> None:
    for name in ("revenue_fen", "cost_fen", "prior_loss_fen", "fiscal_subsidy_fen"):
        value = getattr(account, name)
        if not isinstance(value, int) or value < 0:
            raise DistributionError("VALIDATION_FAILED", f"年度账目 {name} 须为非负整数（分）")


def _checked_members(members: Sequence[MemberBasis]) -> list[MemberBasis]:
    ordered = sorted(members, key=attrgetter("member_id"))
    seen = set()
    for m in ordered:
        if m.member_id in seen:
            raise DistributionError("VALIDATION_FAILED", f"成员 {m.member_id} 重复")
        seen.add(m.member_id)
        for value in (m.capital_fen, m.trade_fen, m.reserve_balance_fen, m.subsidy_balance_fen):
            if not isinstance(value, int) or value < 0:
                raise DistributionError("VALIDATION_FAILED",
                                        f"成员 {m.member_id} 的出资、交易量或份额为负数")
    return ordered


def _quantify_subsidy(subsidy_fen: int, members: list[MemberBasis]) -> list[int]:
    """Equal shares (平均量化) for the members on the roll; odd fen to the lowest ids."""
    if not subsidy_fen:
        return [0] * len(members)
    on_roll = [m.on_roll for m in members]
    if not any(on_roll):
        on_roll = [True] * len(members)
    if not members:
        raise DistributionError("NO_SHARE_BASIS", "没有成员可以量化财政补助")
    return split(subsidy_fen, [int(flag) for flag in on_roll], [m.member_id for m in members])


def _keep_totals_within_a_fen(pool_a: int, weights_a: list[int], parts_a: list[int],
                              pool_b: int, weights_b: list[int], parts_b: list[int],
                              keys: list[int]) -> None:
    """Controlled rounding of a two-pool split, in place.

    Each part is its exact share rounded down or up (largest remainder). A member whose
    two parts were both rounded up although their two fractions add to less than one fen
    (or both down although they add to more) is more than a fen off in total. Such a
    member gives one of its rounded-up fen to the member furthest below its exact total
    (or takes one from the member furthest above), inside the same pool, to or from a
    member whose fraction in that pool is not zero. The pools' sums do not change and
    every part stays a rounding of its exact share; every bad member is fixed in one
    move that breaks no other, so it ends. Ties go by key.
    """
    total_a, total_b = sum(weights_a), sum(weights_b)
    if not (pool_a and pool_b and total_a and total_b):
        return
    n, scale = len(keys), total_a * total_b
    rem = ([pool_a * w % total_a for w in weights_a], [pool_b * w % total_b for w in weights_b])
    up = ([p - pool_a * w // total_a for p, w in zip(parts_a, weights_a)],
          [p - pool_b * w // total_b for p, w in zip(parts_b, weights_b)])
    parts = (parts_a, parts_b)
    # gap = (rounded total − exact total) × scale; |gap| < scale means within one fen.
    gap = [(ua + ub) * scale - ra * total_b - rb * total_a
           for ua, ub, ra, rb in zip(up[0], up[1], rem[0], rem[1])]
    if -scale < min(gap) and max(gap) < scale:
        return                          # the usual case: every total already within a fen
    over = [i for i in range(n) if gap[i] >= scale]
    under = [i for i in range(n) if gap[i] <= -scale]
    below = [(gap[i], keys[i], i) for i in range(n) if gap[i] < 0]    # may take a fen
    above = [(-gap[i], keys[i], i) for i in range(n) if gap[i] > 0]   # may give a fen
    heapq.heapify(below)
    heapq.heapify(above)

    def fraction(pool: int, i: int) -> int:   # the fraction of i's part, on one scale
        return rem[pool][i] * (total_b if pool == 0 else total_a)

    def move(pool: int, giver: int, taker: int) -> None:
        parts[pool][giver] -= 1
        parts[pool][taker] += 1
        up[pool][giver] -= 1
        up[pool][taker] += 1
        for i, delta in ((giver, -scale), (taker, scale)):
            gap[i] += delta
            if gap[i] < 0:
                heapq.heappush(below, (gap[i], keys[i], i))
            elif gap[i] > 0:
                heapq.heappush(above, (-gap[i], keys[i], i))

    def pop(heap, sign: int) -> int:
        while True:
            value, _, i = heapq.heappop(heap)
            if sign * value == gap[i]:   # skip entries made stale by an earlier move
                return i

    for giver in over:                  # rounded up in both pools
        taker = pop(below, 1)
        open_pools = [p for p in (0, 1) if up[p][taker] == 0 and rem[p][taker]]
        pool = max(open_pools, key=lambda p: (fraction(p, taker), -p))
        move(pool, giver, taker)
    for taker in under:                 # rounded down in both pools
        if gap[taker] > -scale:
            continue                    # already fixed by a giver above
        giver = pop(above, -1)
        pools = [p for p in (0, 1) if up[p][giver] == 1]
        pool = max(pools, key=lambda p: (fraction(p, taker), -p))
        move(pool, giver, taker)
    if any(abs(g) >= scale for g in gap):   # pragma: no cover - the argument above
        raise AssertionError("controlled rounding left a member more than a fen off")
