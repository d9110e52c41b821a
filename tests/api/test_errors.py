"""Every error path answers RFC 9457 problem+json with a stable code and Chinese detail."""
from __future__ import annotations

import re

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from auth.policy import public
from coop import create_app
from coop.errors import RuleViolation
from tests.conftest import TEST_CONFIG, IsolatedClient

CHINESE = re.compile(r"[\u4e00-\u9fff]")


class ProbeIn(Schema):
    amount_fen = fields.Integer(required=True, validate=validate.Range(min=0))


def _probe_app(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e.db",
                      "MAX_CONTENT_LENGTH": 1024})
    blp = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @blp.route("/things")
    class Things(MethodView):
        @public
        @blp.arguments(ProbeIn)
        @blp.response(201, ProbeIn)
        def post(self, data):
            if data["amount_fen"] == 13:
                raise RuleViolation("金额不吉利", code="UNLUCKY_AMOUNT")
            return data

    @blp.route("/things/<int:thing_id>")
    @public
    def get_thing(thing_id):
        return {"id": thing_id}

    @blp.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internal detail")

    app.extensions["coop_api"].register_blueprint(blp)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    return _probe_app(tmp_path_factory.mktemp("probe")).test_client()


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert CHINESE.search(body["detail"]), "detail is a Chinese message"
    return body


def test_unknown_path_is_404(probe):
    assert_problem(probe.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")


def test_wrong_method_is_405_with_allow(probe):
    response = probe.delete("/api/v1/probe/things")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]


def test_body_over_limit_is_413(probe):
    response = probe.post("/api/v1/probe/things", data="x" * 5000,
                          content_type="application/json")
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


def test_schema_failure_is_422_with_field_errors(probe):
    body = assert_problem(probe.post("/api/v1/probe/things", json={"amount_fen": -1}),
                          422, "VALIDATION_FAILED")
    assert "amount_fen" in body["errors"]


def test_unknown_field_is_422(probe):
    body = assert_problem(probe.post("/api/v1/probe/things",
                                     json={"amount_fen": 1, "status": "paid"}),
                          422, "VALIDATION_FAILED")
    assert "status" in body["errors"]


def test_malformed_json_is_400(probe):
    response = probe.post("/api/v1/probe/things", data="{not json",
                          content_type="application/json")
    assert_problem(response, 400, "MALFORMED_REQUEST")


def test_json_that_is_not_an_object_is_422(probe):
    assert_problem(probe.post("/api/v1/probe/things", json=[1, 2]), 422, "VALIDATION_FAILED")


def test_business_rule_is_422_with_its_code(probe):
    body = assert_problem(probe.post("/api/v1/probe/things", json={"amount_fen": 13}),
                          422, "UNLUCKY_AMOUNT")
    assert body["detail"] == "金额不吉利"


def test_unexpected_exception_is_500_with_request_id_and_no_trace(probe):
    response = probe.get("/api/v1/probe/boom", headers={"X-Request-ID": "req-42"})
    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "req-42"
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text


@pytest.mark.parametrize("thing_id", ["99999999999999999999999", "9223372036854775808", "0",
                                      "-1"])
def test_out_of_range_ids_are_404_not_500(probe, thing_id):
    assert_problem(probe.get(f"/api/v1/probe/things/{thing_id}"), 404, "NOT_FOUND")


def test_largest_bigint_id_is_routed(probe):
    assert probe.get("/api/v1/probe/things/9223372036854775807").status_code == 200


def test_missing_token_is_401(client):
    assert_problem(client.get("/api/v1/audit?object_type=member"), 401, "AUTH_REQUIRED")


def test_garbage_token_is_401_token_invalid(client):
    response = client.get("/api/v1/audit?object_type=member",
                          headers={"Authorization": "Bearer not.a.jwt"})
    assert_problem(response, 401, "TOKEN_INVALID")


def test_role_that_may_not_call_the_route_is_403(client, make):
    coop = make.cooperative()
    _, headers = make.login("coop_manager", coop)
    assert_problem(client.get("/api/v1/audit?object_type=member", headers=headers),
                   403, "FORBIDDEN")


def test_per_page_over_100_is_422(client, make):
    _, headers = make.login("county_admin", make.county())
    response = client.get("/api/v1/audit?object_type=member&per_page=101", headers=headers)
    assert_problem(response, 422, "VALIDATION_FAILED")


def test_openapi_and_docs_are_served(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.get_json()["openapi"].startswith("3.")
    assert client.get("/api/v1/docs").status_code == 200
