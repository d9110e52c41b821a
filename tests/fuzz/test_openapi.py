"""Schemathesis over every operation of the served spec: no request may cause a 5xx.

Each generated case is sent anonymously and as a user of every role, all scoped to one
seeded county, so both the authorization layer and the handlers behind it are fuzzed.
Run with `make fuzz` (CI does); FUZZ_EXAMPLES sets examples per operation.
"""
from __future__ import annotations

import os
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from coop import create_app
from coop.extensions import db
from tests.auth.fake_wechat import base_url, start_fake_wechat
from tests.conftest import TEST_CONFIG, IsolatedClient
from tests.factories import Factory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def _build_app(tmp_dir):
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/fuzz.sqlite3"
    # WeChat answers from a local fake (no network here); an unreachable WeChat would be
    # a correct 503 WECHAT_UNAVAILABLE, which this test could not tell from a crash.
    wechat = start_fake_wechat()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url,
                      "WECHAT_API_BASE": base_url(wechat)})
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        make = Factory(db.session)
        county = make.county(code="371722")
        coop = make.cooperative(county=county)
        member = make.member(coop)
        make.member(coop, member_type="collective", name="某村股份经济合作社",
                    joined_on=date(2020, 1, 1))
        users = {
            "county_admin": make.user("county_admin", county),
            "county_finance": make.user("county_finance", county),
            "county_reviewer": make.user("county_reviewer", county, department="finance"),
            "coop_manager": make.user("coop_manager", coop),
            "commissioner": make.user("commissioner", coop),
            "member": make.user("member", member),
        }
        app.config["FUZZ_HEADERS"] = {role: make.headers(u) for role, u in users.items()}
        app.config["FUZZ_HEADERS"]["anonymous"] = {}
    return app


APP = _build_app(os.environ.get("FUZZ_TMP", "/tmp"))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    for role, headers in APP.config["FUZZ_HEADERS"].items():
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{role}: {case.method} {case.formatted_path} → {response.status_code}\n"
            f"{response.text[:500]}")


def test_spec_has_operations():
    assert len(list(schema.get_all_operations())) >= 1
