"""`flask seed demo` and `flask seed county`."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from auth.models import User
from auth.passwords import verify_password
from coop import crypto
from coop.places.models import County, Village, ZoneVillage
from coop.shares.compliance import compliance_report
from coop.registry.models import Cooperative, Member
from coop.seed import DEMO_PASSWORD
from coop.validators import is_valid_credit_code, is_valid_id_card, is_valid_village_code


def test_seed_demo_builds_a_compliant_demo_county_and_prints_logins(runner, db):
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    county = db.session.execute(select(County)).scalar_one()
    assert (county.name, county.code) == ("单县", "371722")
    assert all(is_valid_village_code(v.code) for v in db.session.query(Village))
    assert db.session.query(ZoneVillage).count() == 3
    coops = db.session.query(Cooperative).all()
    assert len(coops) == 2 and all(is_valid_credit_code(c.credit_code) for c in coops)
    for coop in coops:
        members = db.session.query(Member).filter_by(cooperative_id=coop.id).all()
        assert sum(m.member_type == "collective" for m in members) == 1
        for m in members:
            number = crypto.decrypt(m.id_card_enc)
            assert (is_valid_credit_code(number) if m.member_type != "farmer"
                    else is_valid_id_card(number))
        report = compliance_report(db.session, coop, date.today(), Decimal("0.5"))
        assert report["ok"], report
    users = db.session.query(User).all()
    roles = sorted(r.role for u in users for r in u.roles)
    # two finance users: one approves a subsidy, the other disburses it (four eyes)
    assert roles == ["coop_manager", "coop_manager", "county_admin", "county_finance",
                     "county_finance", "county_reviewer", "county_reviewer", "county_reviewer"]
    assert {r.department for u in users for r in u.roles if r.role == "county_reviewer"} == {
        "organization", "finance", "agriculture"}
    assert verify_password(users[0].password_hash, DEMO_PASSWORD)
    for u in users:
        assert u.phone in result.output
    assert DEMO_PASSWORD in result.output


def test_seed_demo_if_empty_does_nothing_when_a_county_exists(runner, db, make):
    make.county(code="371700")
    result = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert result.exit_code == 0
    assert db.session.query(County).count() == 1
    assert db.session.query(Cooperative).count() == 0


def test_seed_demo_twice_without_if_empty_fails_cleanly(runner, db):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code != 0 and "371722" in again.output
    assert db.session.query(County).count() == 1


def test_seed_demo_is_refused_in_production(runner, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "COOP_ENV", "production")
    assert runner.invoke(args=["seed", "demo"]).exit_code != 0
    assert db.session.query(County).count() == 0


def test_seed_county_inserts_n_cooperatives_of_m_members(runner, db):
    result = runner.invoke(args=["seed", "county", "--coops", "3", "--members", "10"])
    assert result.exit_code == 0, result.output
    assert db.session.query(Cooperative).count() == 3
    per_coop = dict(db.session.execute(select(Member.cooperative_id, func.count())
                                       .group_by(Member.cooperative_id)).all())
    assert sorted(per_coop.values()) == [10, 10, 10]
    assert db.session.query(Member).filter_by(member_type="collective").count() == 3
    hashes = db.session.execute(select(Member.id_card_hash)).scalars().all()
    assert len(set(hashes)) == 30
    second = runner.invoke(args=["seed", "county", "--coops", "1", "--members", "2"])
    assert second.exit_code == 0 and db.session.query(County).count() == 2
    assert runner.invoke(args=["seed", "county", "--code", "12"]).exit_code != 0

