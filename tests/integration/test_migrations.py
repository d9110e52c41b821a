"""Migrations run upgrade → downgrade → upgrade, and leave a schema equal to the models."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (Column, Date, DateTime, Integer, MetaData, Numeric, Table, Text,
                        create_engine, inspect, select, text)
from sqlalchemy.engine import make_url

from coop import create_app
from coop.dbtypes import UTCDateTime
from coop.extensions import db as _db
from tests.conftest import TEST_CONFIG


@pytest.fixture
def empty_database(tmp_path, app):
    """A fresh database on the same server as the test database (or a new SQLite file)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{url.database}_mig"
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


def _pending_diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, _db.metadata)


def test_upgrade_downgrade_upgrade_matches_models(empty_database):
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with migrated.app_context():
        flask_migrate.upgrade()
        tables = set(inspect(_db.engine).get_table_names())
        assert set(_db.metadata.tables) <= tables
        flask_migrate.downgrade(revision="base")
        assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert _pending_diff(_db.engine) == []
        head = _db.session.execute(text("SELECT chain, seq, hash FROM audit_head")).one()
        assert head == ("system", 0, "0" * 64)
        _db.session.remove()
        _db.engine.dispose()


# Rows a first-wave server wrote (at migration 0001, the released schema): the demo
# county with a benchmark county beside it, a year paid through to a reversal, a reward
# round paid. Made by that release's own code (`flask seed demo`, `flask seed county`,
# and the scenario tests), kept as JSON: table → rows.
FIRST_WAVE = sorted((Path(__file__).parent / "first_wave").glob("*.json"))


def _load_rows(engine, rows_by_table: dict) -> None:
    """Insert the rows as they were, into the schema as it is at this revision."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in meta.sorted_tables:
            rows = rows_by_table.get(table.name)
            if table.name == "audit_head":
                conn.execute(table.delete())
            if rows:
                conn.execute(table.insert(), [_typed(table, row) for row in rows])
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


def _typed(table, row: dict) -> dict:
    out = {}
    for name, value in row.items():
        kind = table.c[name].type
        if value is not None and isinstance(value, str):
            if isinstance(kind, DateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(kind, Date):
                value = date.fromisoformat(value)
        if value is not None and isinstance(kind, Numeric) and not isinstance(kind, Integer):
            value = Decimal(str(value))
        out[name] = value
    return out


@pytest.mark.parametrize("fixture", FIRST_WAVE, ids=[p.stem for p in FIRST_WAVE])
def test_every_revision_upgrades_a_database_holding_first_wave_data(empty_database, fixture):
    """Schema changes are new revisions, never edits of 0001: a server holding the
    released schema's data upgrades to head and keeps every row, and its audit chain
    still verifies. A revision that moves data adds its own checks below."""
    from coop.audit import verify
    rows = json.loads(fixture.read_text(encoding="utf-8"))
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with migrated.app_context():
        flask_migrate.upgrade(revision="0001")
        _load_rows(_db.engine, rows)
        flask_migrate.upgrade()
        for table, table_rows in rows.items():
            count = _db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            assert count == len(table_rows), table
        assert verify(_db.session).ok
        assert _pending_diff(_db.engine) == []
        _db.session.remove()
        _db.engine.dispose()


def test_0005_dates_each_status_change_on_the_day_china_recorded_it(empty_database):
    """Revision 0005: a first-wave status change took effect when it was recorded, on
    China's calendar (17:30 UTC on 31 December is already 1 January in China)."""
    rows = json.loads((Path(__file__).parent / "first_wave" / "demo.json")
                      .read_text(encoding="utf-8"))
    coop = rows["cooperatives"][0]
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with migrated.app_context():
        flask_migrate.upgrade(revision="0001")
        _load_rows(_db.engine, rows)
        flask_migrate.upgrade(revision="0004")
        with _db.engine.begin() as conn:
            for n, at in enumerate((datetime(2024, 12, 31, 17, 30), datetime(2024, 6, 1, 2))):
                conn.execute(text(
                    "INSERT INTO cooperative_status_changes (id, county_id, cooperative_id, "
                    "from_status, to_status, reason, changed_at) VALUES (:id, :county, :coop, "
                    "'active', 'shell', '整改', :at)"),
                    {"id": 900 + n, "county": coop["county_id"], "coop": coop["id"], "at": at})
        flask_migrate.upgrade()
        days = _db.session.execute(text(
            "SELECT id, effective_on FROM cooperative_status_changes ORDER BY id")).all()
        assert [(i, str(d)) for i, d in days] == [(900, "2025-01-01"), (901, "2024-06-01")]
        counties = _db.session.execute(text("SELECT COUNT(*) FROM counties "
                                            "WHERE city_id IS NOT NULL")).scalar_one()
        assert counties == 0
        _db.session.remove()
        _db.engine.dispose()


@pytest.mark.parametrize("fixture", FIRST_WAVE, ids=[p.stem for p in FIRST_WAVE])
def test_0002_turns_secretary_names_into_terms_and_holds_lines_without_an_account(
        empty_database, fixture):
    """Revision 0002 (county money): every village's secretary name becomes an open term
    covering its income years; pending lines without an account become held; first-wave
    'distribution' income rows are kept (and no longer counted); reward lines get their
    reason; approved subsidies were granted what they asked for."""
    rows = json.loads(fixture.read_text(encoding="utf-8"))
    if rows.get("payout_lines"):
        # A member who had no account: the first wave wrote a pending line with none.
        extra = dict(rows["payout_lines"][0], id=max(r["id"] for r in rows["payout_lines"])
                     + 1000, status="pending", bank_name=None, bank_account_enc=None,
                     bank_account_masked=None, bank_ref=None, paid_on=None,
                     reverses_id=None, reissue_of_id=None)
        rows["payout_lines"].append(extra)
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with migrated.app_context():
        flask_migrate.upgrade(revision="0001")
        _load_rows(_db.engine, rows)
        flask_migrate.upgrade(revision="0002")
        q = lambda sql: _db.session.execute(text(sql)).all()  # noqa: E731
        named = {r["id"] for r in rows.get("villages", []) if r.get("party_secretary_name")}
        terms = q("SELECT village_id, name, start_on, end_on FROM village_secretaries")
        assert {t.village_id for t in terms} == named
        assert all(t.end_on is None for t in terms)
        first_year = {}
        for item in rows.get("collective_income_items", []):
            v = item["village_id"]
            first_year[v] = min(first_year.get(v, item["year"]), item["year"])
        for t in terms:
            start = t.start_on if isinstance(t.start_on, date) else date.fromisoformat(
                str(t.start_on))
            if t.village_id in first_year:
                assert start <= date(first_year[t.village_id], 1, 1)
        no_account = {r["id"] for r in rows.get("payout_lines", [])
                      if r["status"] == "pending" and not r.get("bank_account_enc")
                      and r.get("reverses_id") is None}
        held = {r.id for r in q("SELECT id FROM payout_lines WHERE status = 'held'")}
        assert held == no_account and (held or not rows.get("payout_lines"))
        kept = q("SELECT COUNT(*) FROM collective_income_items WHERE source = 'distribution'")
        assert kept[0][0] == sum(1 for r in rows.get("collective_income_items", [])
                                 if r["source"] == "distribution")
        assert q("SELECT COUNT(*) FROM reward_lines WHERE reason IS NULL")[0][0] == 0
        _db.session.remove()
        _db.engine.dispose()


@pytest.mark.parametrize("fixture", FIRST_WAVE, ids=[p.stem for p in FIRST_WAVE])
def test_0007_keeps_the_one_chain_as_the_root_and_downgrades_to_one_chain(
        empty_database, fixture):
    """Revision 0007 (audit chains): the first wave's chain becomes the root chain `system`
    with every row's sequence and hash unchanged; new rows go to their own chains; the
    downgrade folds them back into one chain that the one-chain rule verifies."""
    from coop.audit import ROOT, entry_hash, record, verify
    rows = json.loads(fixture.read_text(encoding="utf-8"))
    old = {(r["seq"], r["hash"]) for r in rows["audit_log"]}
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with migrated.app_context():
        flask_migrate.upgrade(revision="0001")
        _load_rows(_db.engine, rows)
        flask_migrate.upgrade()
        q = lambda sql: _db.session.execute(text(sql)).all()  # noqa: E731
        assert set(q("SELECT seq, hash FROM audit_log WHERE chain = 'system'")) == old
        assert q("SELECT COUNT(*) FROM audit_log WHERE chain <> 'system'") == [(0,)]
        head = rows["audit_head"][0]
        assert q("SELECT chain, seq, hash FROM audit_head") == [(ROOT, head["seq"],
                                                                 head["hash"])]
        for chain in ("coop:1", "coop:2", "coop:1"):
            record(_db.session, None, "thing.update", "thing", 1, chain=chain)
            _db.session.commit()
        record(_db.session, None, "thing.update", "thing", 2)  # the root
        _db.session.commit()
        assert verify(_db.session).ok
        _db.session.remove()

        flask_migrate.downgrade(revision="0006")
        # Read as the one-chain release read it: `at` through its UTC column type.
        one_chain = Table("audit_log", MetaData(), Column("seq", Integer),
                          Column("at", UTCDateTime), *(Column(name, Text) for name in (
                              "actor_id", "action", "object_type", "object_id", "before",
                              "after", "request_id", "prev_hash", "hash")))
        log = _db.session.execute(select(one_chain).order_by(one_chain.c.seq)).all()
        # 2 openings and 4 rows, then each of the 2 chains folded
        assert [r.seq for r in log] == list(range(1, len(old) + 9))
        assert [(r.action, r.object_id) for r in log[-2:]] == [
            ("audit.chain_fold", "coop:1"), ("audit.chain_fold", "coop:2")]
        assert {(r.seq, r.hash) for r in log[:len(old)]} == old
        prev = "0" * 64
        for r in log:
            assert r.prev_hash == prev
            prev = entry_hash(prev, seq=r.seq, at=r.at, actor_id=r.actor_id and int(r.actor_id),
                              action=r.action, object_type=r.object_type,
                              object_id=r.object_id, before=r.before, after=r.after,
                              request_id=r.request_id)
            assert prev == r.hash
        assert q("SELECT id, seq, hash FROM audit_head") == [(1, len(old) + 8, prev)]
        _db.session.remove()

        flask_migrate.upgrade()
        record(_db.session, None, "thing.update", "thing", 1, chain="coop:1")  # reopened
        _db.session.commit()
        assert verify(_db.session).ok
        assert _pending_diff(_db.engine) == []
        _db.session.remove()
        _db.engine.dispose()
