"""The unit of work commits what a block wrote, whichever way it wrote it, and skips the
COMMIT only when there is nothing to commit (coop/transaction.py `_may_have_written`)."""
from __future__ import annotations

from sqlalchemy import select, text, update

from coop.registry.models import Cooperative
from coop.transaction import unit_of_work


def _name_seen_elsewhere(db, coop_id: int) -> str:
    """The committed name, read on a connection of its own."""
    with db.engine.connect() as other:
        return other.execute(select(Cooperative.name).where(Cooperative.id == coop_id)).scalar_one()


def test_an_orm_change_is_committed(app, db, make):
    coop = make.cooperative()
    with app.app_context():
        with unit_of_work() as session:
            session.get(Cooperative, coop.id).name = "改名一"
        assert _name_seen_elsewhere(db, coop.id) == "改名一"


def test_a_core_update_with_nothing_in_the_orm_is_committed(app, db, make):
    coop = make.cooperative()
    with app.app_context():
        with unit_of_work() as session:
            session.execute(update(Cooperative).where(Cooperative.id == coop.id)
                            .values(name="改名二"))
            assert not (session.new or session.dirty or session.deleted)
        assert _name_seen_elsewhere(db, coop.id) == "改名二"


def test_a_raw_statement_is_committed(app, db, make):
    coop = make.cooperative()
    with app.app_context():
        with unit_of_work() as session:
            session.execute(text("UPDATE cooperatives SET name = :n WHERE id = :i"),
                            {"n": "改名三", "i": coop.id})
        assert _name_seen_elsewhere(db, coop.id) == "改名三"


def test_after_a_read_only_block_the_next_one_reads_again(app, db, make):
    """No COMMIT was needed, but what the first block loaded is not served stale to the
    second: another connection's change is seen."""
    coop = make.cooperative()
    with app.app_context():
        with unit_of_work() as session:
            loaded = session.get(Cooperative, coop.id)
            assert loaded.name == coop.name
        with db.engine.begin() as other:
            other.execute(update(Cooperative).where(Cooperative.id == coop.id)
                          .values(name="别处改的"))
        with unit_of_work() as session:
            assert session.get(Cooperative, coop.id).name == "别处改的"
