"""Helpers for the share ledger's tests: a cooperative, a manager, and one-call
subscribe/approve shortcuts through the service functions, each in its own unit of work
as a request would run it (committed, or rolled back when refused)."""
from __future__ import annotations

from datetime import date

import pytest

from coop.errors import DomainError
from coop.shares import services
from coop.transaction import unit_of_work

FOUNDED = date(2024, 1, 2)


class Ledger:
    def __init__(self, db, make, **charter):
        self.session = db.session
        self.make = make
        self.coop = make.cooperative(founded_on=FOUNDED, **charter)
        self.manager = make.user("coop_manager", self.coop)

    def member(self, **kw):
        kw.setdefault("joined_on", FOUNDED)
        return self.make.member(self.coop, **kw)

    def submit(self, type, member, kind="cash", on=FOUNDED, to=None, **value):
        with unit_of_work(self.session):
            return services.submit_operation(
                self.session, self.manager, self.coop, type=type, member_id=member.id,
                kind=kind, effective_on=on, to_member_id=to.id if to is not None else None,
                **value)

    def approve(self, op):
        with unit_of_work(self.session):
            return services.approve_operation(self.session, self.manager, op)

    def done(self, type, member, kind="cash", on=FOUNDED, to=None, **value):
        """Submit and approve in one go (the operation must pass every rule)."""
        return self.approve(self.submit(type, member, kind, on, to, **value))

    def run(self, fn, *args, **kw):
        """Call a service in its own unit of work, as a route would."""
        with unit_of_work(self.session):
            return fn(*args, **kw)

    def refused(self, fn, *args, **kw) -> str:
        """Call fn, expect a DomainError, roll back, and return its code."""
        with pytest.raises(DomainError) as info:
            with unit_of_work(self.session):
                fn(*args, **kw)
        return info.value.code


@pytest.fixture
def ledger(db, make):
    return Ledger(db, make)
