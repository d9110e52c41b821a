"""A hypothesis state machine drives random share operations through the services.

The machine keeps its own model of the register — the signed changes each approved
operation must write, computed here from the operation's definition, never read back
from the code — and predicts which rule refuses an operation. After every step it checks
the database: the register equals the model and the sum of the lines, no holding is
below zero on any date, lines are numbered 1..n without gaps, the single-member cap
holds on every date, and no line written earlier has changed.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, rule,
                                 run_state_machine_as_test)
from sqlalchemy import select

from coop import clock
from coop.errors import DomainError
from coop.registry.models import Member
from coop.shares import services
from coop.transaction import unit_of_work
from coop.shares.models import ShareBalance, ShareLine, ShareOperation, ShareRegisterHead
from coop.shares.register import holdings_as_of
from tests.conftest import empty_all_tables
from tests.factories import Factory

START = date(2024, 1, 1)
DAYS = [START + timedelta(days=30 * i) for i in range(5)]
FARMERS = 6
CAP = Fraction(1, 5)
KINDS = ("cash", "land", "fiscal_subsidy", "labour", "collective_asset")
AMOUNTS = (1, 40, 100, 250, 1_000, 5_000)
DAY = st.integers(0, len(DAYS))          # len(DAYS) stands for tomorrow


@dataclass
class ModelOp:
    id: int
    type: str
    member: int
    kind: str
    amount: int
    on: date
    to: int | None = None
    reverses: "ModelOp | None" = None
    status: str = "submitted"
    deltas: list = field(default_factory=list)     # what approval must write


class LedgerMachine(RuleBasedStateMachine):
    session = None  # set by the test

    @initialize(collective_capped=st.booleans())
    def set_up(self, collective_capped):
        empty_all_tables()
        make = Factory(self.session)
        self.coop = make.cooperative(founded_on=START, collective_cap_applies=collective_capped)
        self.manager = make.user("coop_manager", self.coop)
        members = [make.member(self.coop, joined_on=START) for _ in range(FARMERS)]
        members.append(make.member(self.coop, member_type="collective", joined_on=START))
        self.member_ids = [m.id for m in members]
        self.collective = members[-1].id
        self.exempt = set() if collective_capped else {self.collective}
        self.status = {m: "active" for m in self.member_ids}
        self.ops: list[ModelOp] = []
        self.expected: list[tuple[date, int, str, int]] = []   # (on, member, kind, delta)
        self.seen_rows: list[tuple] = []

    # --- the model ---------------------------------------------------------------

    def holdings(self, changes, on):
        held = defaultdict(int)
        for day, member, kind, delta in changes:
            if day <= on:
                held[(member, kind)] += delta
        return held

    def totals(self, changes, on):
        out = defaultdict(int)
        for (member, _kind), fen in self.holdings(changes, on).items():
            out[member] += fen
        return {m: v for m, v in out.items() if v}

    def checkpoints(self, changes, since):
        return sorted({day for day, *_ in changes if day >= since} | {since})

    def goes_negative(self, deltas, on) -> bool:
        """Would adding `deltas` (dated `on`) leave a holding below zero on any date?"""
        after = self.expected + deltas
        return any(v < 0 for day in self.checkpoints(after, on)
                   for v in self.holdings(after, day).values())

    def over_cap(self, totals):
        if len(totals) < 5:
            return set()
        whole = sum(totals.values())
        return {m for m, v in totals.items() if m not in self.exempt and Fraction(v, whole) > CAP}

    def predicted_refusal(self, op: ModelOp) -> str | None:
        """The code approval must fail with, in the order the rules are checked."""
        if op.status != "submitted":
            return "STATE_CONFLICT"
        if op.type == "transfer" and self.status[op.to] != "active":
            return "TRANSFEREE_NOT_MEMBER"
        if op.type == "reverse" and (op.reverses.status != "approved" or any(
                o.reverses is op.reverses and o.status == "approved" for o in self.ops)):
            return "STATE_CONFLICT"
        if self.goes_negative(op.deltas, op.on):
            return "INSUFFICIENT_SHARES"
        after = self.expected + op.deltas
        for day in self.checkpoints(after, op.on):
            if self.over_cap(self.totals(after, day)):
                return "SINGLE_MEMBER_CAP_EXCEEDED"
        return None

    def deltas_of(self, type, member, kind, amount, on, to):
        sign = -1 if type == "redeem" else 1
        out = [(on, member, kind, sign * amount)]
        if type == "transfer":
            out = [(on, member, kind, -amount), (on, to, kind, amount)]
        return out

    # --- rules -------------------------------------------------------------------

    def _attempt(self, fn, *args, **kw):
        try:
            with unit_of_work(self.session):
                return fn(*args, **kw), None
        except DomainError as exc:
            return None, exc.code

    @rule(member=st.integers(0, FARMERS), kind=st.sampled_from(KINDS),
          amount=st.sampled_from(AMOUNTS), day=DAY, approve_now=st.booleans())
    def subscribe(self, member, kind, amount, day, approve_now):
        self._submit("subscribe", self.member_ids[member], None, kind, amount, day, approve_now)

    @rule(type=st.sampled_from(("transfer", "redeem")), pick=st.integers(0, 10**6),
          to=st.integers(0, FARMERS), size=st.sampled_from(("one", "half", "all", "over")),
          kind=st.sampled_from(KINDS), day=DAY, approve_now=st.booleans())
    def move(self, type, pick, to, size, kind, day, approve_now):
        """Transfer or redeem part, all, or more than all of a current holding."""
        held = sorted((mk, v) for mk, v in self.holdings(self.expected, DAYS[-1]).items() if v)
        if held:
            (member, kind), fen = held[pick % len(held)]
            if day < len(DAYS):   # not before the holding existed (that is tested too, less)
                first = next(i for i, d in enumerate(DAYS)
                             if self.holdings(self.expected, d)[(member, kind)] > 0)
                day = max(day, first) if pick % 4 else day
        else:
            member, fen = self.member_ids[pick % len(self.member_ids)], 1
        amount = {"one": 1, "half": max(1, fen // 2), "all": fen, "over": fen + 1}[size]
        self._submit(type, member, self.member_ids[to] if type == "transfer" else None, kind,
                     amount, day, approve_now)

    def _submit(self, type, member, to, kind, amount, day, approve_now):
        future = day == len(DAYS)
        on = clock.today() + timedelta(days=1) if future else DAYS[day]
        value = {"amount_fen": amount}
        if type == "subscribe" and kind == "land" and amount % 8 == 0:
            # by area: amount/8 hundredths of a mu at 800,000 fen per mu = amount × 1,000 fen
            value = {"area_mu": Decimal(amount // 8) / 100}
            amount *= 1_000
        deltas = self.deltas_of(type, member, kind, amount, on, to)
        if future:
            expected = "EFFECTIVE_DATE_IN_FUTURE"
        elif type != "subscribe" and kind == "fiscal_subsidy":
            expected = "NOT_TRANSFERABLE"
        elif type == "transfer" and to == member:
            expected = "VALIDATION_FAILED"
        elif type == "transfer" and self.status[to] != "active":
            expected = "TRANSFEREE_NOT_MEMBER"
        elif type == "subscribe" and kind == "collective_asset" and member != self.collective:
            expected = "KIND_NOT_ALLOWED"
        elif type != "subscribe" and self.goes_negative(deltas[:1], on):
            expected = "INSUFFICIENT_SHARES"
        else:
            expected = None
        op, code = self._attempt(services.submit_operation, self.session, self.manager,
                                 self.coop, type=type, member_id=member, kind=kind,
                                 effective_on=on, to_member_id=to, **value)
        assert code == expected, (code, expected)
        event(f"submit {type}: {code or 'ok'}")
        if op is not None:
            self.ops.append(ModelOp(op.id, type, member, kind, op.amount_fen, on, to,
                                    deltas=deltas))
            if approve_now:
                self._approve(self.ops[-1])

    @rule(pick=st.integers(0, 10**6), decided=st.integers(0, 4))
    def approve(self, pick, decided):
        """Approve a submitted operation, or now and then one already decided."""
        pending = [op for op in self.ops if op.status == "submitted"]
        pool = self.ops if decided == 0 or not pending else pending
        if not pool:
            return
        self._approve(pool[pick % len(pool)])

    def _approve(self, op: ModelOp):
        expected = self.predicted_refusal(op)
        row = self.session.get(ShareOperation, op.id)
        _, code = self._attempt(services.approve_operation, self.session, self.manager, row)
        assert code == expected, (code, expected, op)
        event(f"approve {op.type}: {code or 'ok'}")
        if code is None:
            op.status = "approved"
            self.expected += op.deltas
            for member in {m for _d, m, _k, _v in op.deltas}:
                held = sum(v for _d, m, _k, v in self.expected if m == member)
                if held == 0 and self.status[member] == "active":
                    self.status[member] = "former"
                elif held > 0 and self.status[member] == "former":
                    self.status[member] = "active"

    @rule(pick=st.integers(0, 10**6), reason=st.sampled_from(("材料不全", "x")))
    def reject(self, pick, reason):
        if not self.ops:
            return
        op = self.ops[pick % len(self.ops)]
        row = self.session.get(ShareOperation, op.id)
        _, code = self._attempt(services.reject_operation, self.session, self.manager, row,
                                reason)
        assert code == (None if op.status == "submitted" else "STATE_CONFLICT")
        if code is None:
            op.status = "rejected"

    @rule(pick=st.integers(0, 10**6))
    def reverse(self, pick):
        approved = [op for op in self.ops if op.status == "approved"]
        pool = approved or self.ops
        if not pool:
            return
        original = pool[pick % len(pool)]
        blocked = original.status != "approved" or original.type == "reverse" or any(
            o.reverses is original and o.status in ("submitted", "approved") for o in self.ops)
        deltas = [(d, m, k, -v) for d, m, k, v in original.deltas]
        expected = "STATE_CONFLICT" if blocked else None
        if not blocked and self.goes_negative(deltas, original.on):
            expected = "INSUFFICIENT_SHARES"
        row = self.session.get(ShareOperation, original.id)
        op, code = self._attempt(services.reverse_operation, self.session, self.manager, row,
                                 reason="冲正")
        assert code == expected, (code, expected)
        event(f"reverse: {code or 'ok'}")
        if op is not None:
            self.ops.append(ModelOp(op.id, "reverse", original.member, original.kind,
                                    original.amount, original.on, original.to, original,
                                    deltas=deltas))

    # --- invariants --------------------------------------------------------------

    @invariant()
    def register_matches_the_model_and_the_lines(self):
        rows = self.session.execute(select(ShareLine.effective_on, ShareLine.member_id,
                                           ShareLine.kind, ShareLine.delta_fen)).all()
        for day in DAYS + [clock.today()]:
            from_lines = {k: v for k, v in self.holdings(rows, day).items() if v}
            from_model = {k: v for k, v in self.holdings(self.expected, day).items() if v}
            register = {(m, k): v for m, kinds in
                        holdings_as_of(self.session, self.coop.id, day).items()
                        for k, v in kinds.items()}
            assert register == from_lines == from_model
            assert all(v >= 0 for v in from_lines.values()), "holding below zero"
            assert not self.over_cap(self.totals(rows, day)), "cap exceeded"

    @invariant()
    def balances_are_the_sum_of_all_lines(self):
        rows = self.session.execute(select(ShareLine.effective_on, ShareLine.member_id,
                                           ShareLine.kind, ShareLine.delta_fen)).all()
        from_lines = {k: v for k, v in self.holdings(rows, date.max).items() if v}
        balances = {}
        for b in self.session.execute(select(ShareBalance)).scalars():
            kinds = {k: getattr(b, f"{k}_fen") for k in KINDS}
            assert b.total_fen == sum(kinds.values())
            balances.update({(b.member_id, k): v for k, v in kinds.items() if v})
        assert balances == from_lines

    @invariant()
    def lines_are_numbered_without_gaps_and_never_change(self):
        rows = [tuple(r) for r in self.session.execute(
            select(ShareLine.id, ShareLine.line_no, ShareLine.member_id, ShareLine.operation_id,
                   ShareLine.kind, ShareLine.delta_fen, ShareLine.effective_on,
                   ShareLine.created_at).order_by(ShareLine.line_no)).all()]
        assert [r[1] for r in rows] == list(range(1, len(rows) + 1))
        head = self.session.get(ShareRegisterHead, self.coop.id, populate_existing=True)
        assert (head.last_line_no if head else 0) == len(rows)
        assert rows[:len(self.seen_rows)] == self.seen_rows, "a line was edited or deleted"
        self.seen_rows = rows

    @invariant()
    def statuses_match_the_model(self):
        ops = dict(self.session.execute(select(ShareOperation.id, ShareOperation.status)).all())
        assert ops == {op.id: op.status for op in self.ops}
        members = dict(self.session.execute(select(Member.id, Member.status)).all())
        assert members == self.status


def run_machine(machine, session):
    machine.session = session
    run_state_machine_as_test(machine, settings=settings(
        max_examples=int(os.environ.get("SHARES_STATEFUL_EXAMPLES", "20")),
        stateful_step_count=50, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


def test_random_operation_sequences_keep_the_register_consistent(db):
    run_machine(LedgerMachine, db.session)


BYSTANDERS = 8


class LedgerWithBystandersMachine(LedgerMachine):
    """The same machine on a register where eight more members hold a little capital
    from the start (they are moved only when a transfer or redemption happens to pick
    them): with that many holders on every date, the cap on a back-dated operation that
    does not shrink the capital is checked from the changed members' lines and the
    capital per date alone (coop/shares/ledger.py `_cap_checked_over_later_dates`)."""

    @initialize(collective_capped=st.booleans())
    def set_up(self, collective_capped):
        super().set_up(collective_capped)
        make = Factory(self.session)
        for _ in range(BYSTANDERS):
            member = make.member(self.coop, joined_on=START)
            self.status[member.id] = "active"
            with unit_of_work(self.session):
                op = services.submit_operation(self.session, self.manager, self.coop,
                                               type="subscribe", member_id=member.id,
                                               kind="cash", effective_on=START, amount_fen=100)
                services.approve_operation(self.session, self.manager, op)
            self.ops.append(ModelOp(op.id, "subscribe", member.id, "cash", 100, START,
                                    status="approved",
                                    deltas=[(START, member.id, "cash", 100)]))
            self.expected.append((START, member.id, "cash", 100))


def test_random_operation_sequences_on_a_register_with_many_holders(db):
    run_machine(LedgerWithBystandersMachine, db.session)
