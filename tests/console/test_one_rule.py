"""The console adds no second copy of a rule: every form calls the same service function as
the API route, and the console's own code writes nothing and names no business rule."""
from __future__ import annotations

import ast
from pathlib import Path

import coop.clock as clock
from coop.county import evaluations, rewards, subsidies
from coop.county.models import RewardRound
from tests.console.conftest import as_user, post_form
from tests.console.test_pages import application
from tests.county.test_evaluations import make_program

CONSOLE = Path(__file__).resolve().parents[2] / "coop" / "console"
# What a copy of a rule would need: a state change, a budget move, a write, an audit
# entry, a rule's code. The services own all of these.
WRITE_FUNCTIONS = {"transition", "reserve", "mark_disbursed", "update", "insert", "delete"}
WRITE_METHODS = WRITE_FUNCTIONS | {"add", "add_all", "flush", "record", "commit", "rollback",
                                   "merge", "bulk_save_objects"}
RULE_CODES = ("FOUR_EYES_REQUIRED", "BUDGET_EXCEEDED", "RECIPIENT_CAP_EXCEEDED",
              "NOTICE_PERIOD_NOT_OVER", "approved_by ==", "created_by ==")


def test_the_console_source_writes_nothing_and_names_no_rule():
    found = []
    for path in CONSOLE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS) or (
                    isinstance(func, ast.Name) and func.id in WRITE_FUNCTIONS):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}()")
        found += [f"{path.name}: {code}" for code in RULE_CODES if code in source]
    assert not found, found


def _spy(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        # ids, not the rows: the request's session is gone when the test looks
        calls.append(tuple(getattr(arg, "id", arg) for arg in args))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_every_form_calls_the_apis_service(app, client, staff, db, monkeypatch):
    approve = _spy(monkeypatch, subsidies, "approve_application")
    reject = _spy(monkeypatch, subsidies, "reject_application")
    disburse = _spy(monkeypatch, subsidies, "disburse_application")
    approve_round = _spy(monkeypatch, rewards, "approve_round")
    close_round = _spy(monkeypatch, rewards, "close_round")
    score = _spy(monkeypatch, evaluations, "set_score")

    _, first = application(client, staff)
    _, second = application(client, staff)
    a, b = as_user(app, staff.finance1[0]), as_user(app, staff.finance2[0])
    page = f"/console/subsidy-applications/{first}"
    assert post_form(a, page, f"{page}/approve").status_code == 303
    assert post_form(b, page, f"{page}/disburse", paid_on=clock.today().isoformat(),
                     bank_ref="NB1").status_code == 303
    page2 = f"/console/subsidy-applications/{second}"
    assert post_form(a, page2, f"{page2}/reject", reason="重复申请").status_code == 303
    assert [c[2] for c in approve] == [first] and [c[2] for c in disburse] == [first]
    assert [c[2] for c in reject] == [second]

    program = make_program(client, staff)
    rounds = []
    for year in (2022, 2023):
        rnd = RewardRound(county_id=staff.county.id, year=year, live_year=year, status="draft",
                          program_id=program["id"], excellent_award_fen=100,
                          secretary_rate=0, managers_rate=0, total_fen=100, line_count=0,
                          created_by=staff.finance1[0].id)
        db.session.add(rnd)
        rounds.append(rnd)
    db.session.commit()
    page = f"/console/reward-rounds/{rounds[0].id}"
    assert post_form(b, page, f"{page}/approve").status_code == 303
    page = f"/console/reward-rounds/{rounds[1].id}"
    assert post_form(b, page, f"{page}/reject", reason="数据有误").status_code == 303
    assert [c[2] for c in approve_round] == [rounds[0].id]
    assert [(c[2], c[3]) for c in close_round] == [(rounds[1].id, "rejected")]

    reviewer = as_user(app, staff.reviewers["finance"][0])
    url = f"/console/cooperatives/{staff.coop.id}/evaluations/2025/finance/score"
    assert post_form(reviewer, "/console/evaluations/2025", url, score="80").status_code == 303
    assert [(c[2], c[3], c[4], c[5]) for c in score] == [(staff.coop.id, 2025, "finance", 80)]
