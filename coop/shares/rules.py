"""The share ledger's arithmetic, pure: no Flask, no session, integers only.

Valuation of contributions in kind (land by area, labour by tickets), the single-member
cap (单一成员持股上限) and the "never below zero at any later date" check all live
here so they can be read, and tested, without a database.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

# The cap is only checked once this many members hold capital (CONTRACT §4), so that a
# founding register can be entered one subscription at a time.
CAP_MIN_HOLDERS = 5
RATIO_PLACES = 4


def land_value_fen(area_mu: Decimal, rate_fen_per_mu: int) -> int:
    """土地经营权折股: area (mu) × the charter's rate (fen per mu), rounded half-up to
    the fen. With 1 yuan = 1 share and 1 mu = 8,000 shares the rate is 800,000."""
    if not isinstance(area_mu, Decimal):
        raise TypeError("area_mu must be a Decimal")
    return int((area_mu * rate_fen_per_mu).to_integral_value(rounding=ROUND_HALF_UP))


def labour_value_fen(tickets: int, rate_fen_per_ticket: int) -> int:
    """劳务折股: labour tickets × the charter's value of one ticket (exact, integers)."""
    return tickets * rate_fen_per_ticket


def exceeds_rate(holding_fen: int, total_fen: int, rate: Decimal) -> bool:
    """holding / total > rate, compared exactly as holding × den > total × num."""
    numerator, denominator = rate.as_integer_ratio()
    return holding_fen * denominator > total_fen * numerator


def ratio_string(holding_fen: int, total_fen: int, places: int = RATIO_PLACES) -> str:
    """holding / total as a decimal string of `places` decimals, rounded half-up."""
    if total_fen <= 0:
        return "0." + "0" * places
    scale = 10**places
    quotient, remainder = divmod(holding_fen * scale, total_fen)
    if 2 * remainder >= total_fen:
        quotient += 1
    whole, frac = divmod(quotient, scale)
    return f"{whole}.{frac:0{places}d}"


def over_cap(totals: Mapping[int, int], exempt: Iterable[int], rate: Decimal) -> set[int]:
    """Members of `totals` ({member: fen}) holding more than `rate` of all capital.

    Nobody is over the cap while fewer than CAP_MIN_HOLDERS members hold capital.
    `exempt` members (the collective when its charter says so) count toward the total
    and the number of holders but are never over the cap themselves.
    """
    holders = {m: fen for m, fen in totals.items() if fen > 0}
    if len(holders) < CAP_MIN_HOLDERS:
        return set()
    # exceeds_rate inlined: this runs over every holder of a large register
    numerator, denominator = rate.as_integer_ratio()
    limit = sum(holders.values()) * numerator
    exempt = set(exempt)
    return {m for m, fen in holders.items() if fen * denominator > limit and m not in exempt}


def cap_breaches(before: Mapping[int, int], after: Mapping[int, int], exempt: Iterable[int],
                 rate: Decimal) -> set[int]:
    """Members an operation pushes over the cap, or whose share it raises while over.

    A register that was already over the cap (the charter rate was lowered later) must
    not block the operations that bring it back down, so only new or worsened
    breaches count. This is the rule's definition; the ledger runs the faster
    first_cap_breach / breaches_among_changed, which the tests hold to it.
    """
    exempt = set(exempt)
    was_over = over_cap(before, exempt, rate)
    total_before = sum(v for v in before.values() if v > 0)
    total_after = sum(v for v in after.values() if v > 0)
    breaches = set()
    for member in over_cap(after, exempt, rate):
        if member not in was_over:
            breaches.add(member)
        # worsened: after/total_after > before/total_before
        elif after[member] * total_before > before.get(member, 0) * total_after:
            breaches.add(member)
    return breaches


def breaches_among_changed(before: Mapping[int, int], after: Mapping[int, int],
                           total_before: int, total_after: int, holders_before: int,
                           holders_after: int, exempt: Iterable[int],
                           rate: Decimal) -> set[int] | None:
    """cap_breaches without reading the whole register, when that is sound.

    `before`/`after` hold only the members the operation changes; the totals and holder
    counts are the whole register's. If capital does not shrink and the register was
    already checked (≥ CAP_MIN_HOLDERS holders), no unchanged member's share can rise,
    so only the changed members can breach. Returns None when that does not hold and
    the whole register must be checked.
    """
    if holders_after < CAP_MIN_HOLDERS:
        return set()
    if total_after < total_before or holders_before < CAP_MIN_HOLDERS:
        return None
    numerator, denominator = rate.as_integer_ratio()
    exempt = set(exempt)
    breaches = set()
    for member, held in after.items():
        if held <= 0 or member in exempt or held * denominator <= total_after * numerator:
            continue
        was = before.get(member, 0)
        if was * denominator <= total_before * numerator or held * total_before > was * total_after:
            breaches.add(member)
    return breaches


def _changed_breaches(held: Mapping[int, int], total: int, change: Mapping[int, int],
                      checked: bool, exempt: set[int], numerator: int,
                      denominator: int) -> tuple[set[int], int]:
    """On one date with holdings `held` and capital `total`: the changed members the
    operation puts over the cap — newly, or further while over it (`checked`: the cap
    applied before the operation) — and the capital after it."""
    after = {m: held[m] + delta for m, delta in change.items()}
    total_after = total + sum(max(a, 0) - max(held[m], 0) for m, a in after.items())
    limit_before, limit_after = total * numerator, total_after * numerator
    found = set()
    for member, a in after.items():
        if member in exempt or a <= 0 or a * denominator <= limit_after:
            continue
        b = held[member]
        was_over = checked and b > 0 and b * denominator > limit_before
        if not was_over or a * total > b * total_after:
            found.add(member)
    return found, total_after


def first_cap_breach(on: Hashable, opening: Mapping[int, int],
                     later: Iterable[tuple[Hashable, Iterable[tuple[int, int]]]],
                     change: Mapping[int, int], exempt: Iterable[int],
                     rate: Decimal) -> tuple[Hashable, set[int]] | None:
    """Walk the register from an operation's date through every later date with lines,
    and return (date, cap_breaches) at the first date where the operation breaches the
    cap, or None. `opening` is {member: fen} on the operation's date without it,
    `later` the other lines' changes [(date, [(member, fen), …])] in date order,
    `change` the operation's net change per member.

    Same answer as cap_breaches at every date, but without re-reading the register each
    time: the totals are kept running, and the largest unchanged holding comes from a
    heap. Unchanged members matter only when capital shrinks or the register was not
    yet checked (fewer than CAP_MIN_HOLDERS holders before the operation).
    """
    numerator, denominator = rate.as_integer_ratio()
    exempt = set(exempt)
    held: dict[int, int] = defaultdict(int, opening)
    total = sum(v for v in held.values() if v > 0)
    holders = sum(1 for v in held.values() if v > 0)
    heap = [(-v, m) for m, v in held.items() if v > 0 and m not in exempt]
    heapq.heapify(heap)

    def largest_unchanged() -> int:
        aside, largest = [], 0
        while heap:
            negative, member = heap[0]
            if held[member] != -negative:            # stale entry: drop it for good
                heapq.heappop(heap)
            elif member in change:
                aside.append(heapq.heappop(heap))
            else:
                largest = -negative
                break
        for item in aside:
            heapq.heappush(heap, item)
        return largest

    def breaches() -> set[int]:
        holders_after = holders + sum((held[m] + delta > 0) - (held[m] > 0)
                                      for m, delta in change.items())
        if holders_after < CAP_MIN_HOLDERS:
            return set()
        checked = holders >= CAP_MIN_HOLDERS
        found, total_after = _changed_breaches(held, total, change, checked, exempt,
                                               numerator, denominator)
        limit_after = total_after * numerator
        rises = not checked or total_after < total
        if rises and largest_unchanged() * denominator > limit_after:
            found |= {m for m, v in held.items() if m not in change and m not in exempt
                      and v > 0 and v * denominator > limit_after}
        return found

    days = iter(later)
    day, moves = on, ()
    while True:
        for member, delta in moves:
            old = held[member]
            held[member] = new = old + delta
            total += max(new, 0) - max(old, 0)
            holders += (new > 0) - (old > 0)
            if new > 0 and member not in exempt:
                heapq.heappush(heap, (-new, member))
        found = breaches()
        if found:
            return day, found
        try:
            day, moves = next(days)
        except StopIteration:
            return None


def first_breach_among_changed(on: Hashable, opening: Mapping[int, int], capital: int,
                               later: Iterable[tuple[Hashable, int, Iterable[tuple[int, int]]]],
                               change: Mapping[int, int], exempt: Iterable[int],
                               rate: Decimal) -> tuple[Hashable, set[int]] | None:
    """first_cap_breach reading only the changed members and the capital per date — sound
    when (the caller makes sure) no holding is below zero, the operation does not shrink
    the capital (sum of `change` ≥ 0), and at least CAP_MIN_HOLDERS + len(change)
    members hold capital on `on` and on every later date. Then the cap applies before and
    after the operation on every date, and no unchanged member's share rises, so only the
    changed members can breach — the same test first_cap_breach makes for them.

    `opening` is {member: fen} of the changed members on `on` without the operation,
    `capital` the register's total on `on`, `later` [(date, change of the capital,
    [(changed member, fen), …])] for every later date with lines, in date order.
    """
    numerator, denominator = rate.as_integer_ratio()
    exempt = set(exempt)
    held = dict.fromkeys(change, 0) | dict(opening)
    total = capital
    days = iter(later)
    day, moved, moves = on, 0, ()
    while True:
        total += moved
        for member, delta in moves:
            held[member] += delta
        found, _ = _changed_breaches(held, total, change, True, exempt, numerator,
                                     denominator)
        if found:
            return day, found
        try:
            day, moved, moves = next(days)
        except StopIteration:
            return None


def lowest_balance(opening_fen: int, later_changes: Iterable[int]) -> int:
    """The lowest running balance from `opening_fen` through `later_changes` in date
    order: a holding must stay ≥ 0 on the operation's date and on every later date."""
    balance = lowest = opening_fen
    for change in later_changes:
        balance += change
        lowest = min(lowest, balance)
    return lowest
