"""Scores by department, grades by the county's rules for the year."""
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from coop.county.evaluations import grade
from tests.county.conftest import problem_code


def score_url(coop, dept, year=2024):
    return f"/api/v1/cooperatives/{coop.id}/evaluations/{year}/scores/{dept}"


def eval_url(coop, year=2024):
    return f"/api/v1/cooperatives/{coop.id}/evaluations/{year}"


def score_all(client, world, coop, scores, year=2024):
    for dept, points in zip(("organization", "finance", "agriculture"), scores):
        response = client.put(score_url(coop, dept, year),
                              json={"score": points, "opinion": f"{dept} 意见"},
                              headers=world.reviewers[dept][1])
        assert response.status_code == 200, response.get_json()


def set_rules(client, world, program_id, year=2024, **overrides):
    body = {"excellent_award_fen": 30_000_000, "secretary_rate": "0.15",
            "managers_rate": "0.15", "excellent_min_score": 90, "program_id": program_id}
    body.update(overrides)
    response = client.put(f"/api/v1/counties/{world.county.id}/reward-rules/{year}", json=body,
                          headers=world.admin[1])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def make_program(client, world, budget_fen=100_000_000, year=2024, headers=None):
    response = client.post(f"/api/v1/counties/{world.county.id}/programs",
                           json={"name": "优秀合作社奖励", "year": year, "budget_fen": budget_fen},
                           headers=headers or world.finance1[1])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def current_grade(client, world):
    return client.get(eval_url(world.coop), headers=world.finance1[1]).get_json()["grade"]


def test_grade_is_pending_until_all_three_departments_have_scored(client, world):
    program = make_program(client, world)
    set_rules(client, world, program["id"])
    score_all(client, world, world.coop, [95, 95])
    body = client.get(eval_url(world.coop), headers=world.finance1[1]).get_json()
    assert body["grade"] == "pending"
    assert body["missing_departments"] == ["agriculture"]
    score_all(client, world, world.coop, [95, 95, 95])
    body = client.get(eval_url(world.coop), headers=world.finance1[1]).get_json()
    assert body["grade"] == "excellent"
    assert body["missing_departments"] == []
    assert {s["department"]: s["score"] for s in body["scores"]} == {
        "organization": 95, "finance": 95, "agriculture": 95}


def test_grade_is_pending_without_rules_for_the_year(client, world):
    score_all(client, world, world.coop, [95, 95, 95])
    body = client.get(eval_url(world.coop), headers=world.finance1[1]).get_json()
    assert (body["grade"], body["rules_set"]) == ("pending", False)


def test_grades_follow_the_thresholds_in_the_rules(client, world):
    program = make_program(client, world)
    set_rules(client, world, program["id"], excellent_min_score=90, good_min_score=80,
              pass_min_score=70)
    # average 89.67 is below 90: good, not excellent (the comparison is exact)
    score_all(client, world, world.coop, [90, 90, 89])
    body = client.get(eval_url(world.coop), headers=world.finance1[1]).get_json()
    assert (body["grade"], body["average_score"]) == ("good", "89.67")
    score_all(client, world, world.coop, [70, 70, 70])
    assert current_grade(client, world) == "pass"
    score_all(client, world, world.coop, [70, 70, 69])
    assert current_grade(client, world) == "fail"
    # Another county setting: the same scores grade differently.
    set_rules(client, world, program["id"], excellent_min_score=69, good_min_score=60,
              pass_min_score=50)
    assert current_grade(client, world) == "excellent"


def test_only_a_reviewer_of_that_department_may_score(client, world):
    response = client.put(score_url(world.coop, "organization"), json={"score": 80},
                          headers=world.reviewers["finance"][1])
    assert (response.status_code, problem_code(response)) == (403, "FORBIDDEN")
    response = client.put(score_url(world.coop, "finance"), json={"score": 80},
                          headers=world.finance1[1])
    assert (response.status_code, problem_code(response)) == (403, "FORBIDDEN")
    response = client.put(score_url(world.coop, "finance"), json={"score": 80},
                          headers=world.reviewers["finance"][1])
    assert response.status_code == 200


def test_reviewer_of_another_county_gets_404(client, world, make):
    _, headers = make.login("county_reviewer", world.county_b, department="finance")
    response = client.put(score_url(world.coop, "finance"), json={"score": 80}, headers=headers)
    assert response.status_code == 404
    assert client.get(eval_url(world.coop), headers=headers).status_code == 404


def test_bad_scores_and_departments_are_refused(client, world):
    headers = world.reviewers["finance"][1]
    for body in ({"score": 101}, {"score": -1}, {"score": 85.5}, {"score": "90"}, {},
                 {"score": 90, "opinion": "x" * 2001}, {"score": 90, "reviewer_id": 1}):
        assert client.put(score_url(world.coop, "finance"), json=body,
                          headers=headers).status_code == 422, body
    assert client.put(score_url(world.coop, "sales"), json={"score": 90},
                      headers=headers).status_code == 404


thresholds = st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)).map(sorted)


@settings(max_examples=200, deadline=None)
@given(scores=st.lists(st.integers(0, 100), min_size=3, max_size=3), limits=thresholds)
def test_grade_compares_the_exact_average_with_each_threshold(scores, limits):
    pass_min, good_min, excellent_min = limits
    rule = SimpleNamespace(excellent_min_score=excellent_min, good_min_score=good_min,
                           pass_min_score=pass_min)
    average = Decimal(sum(scores)) / 3
    expected = ("excellent" if average >= excellent_min else "good" if average >= good_min
                else "pass" if average >= pass_min else "fail")
    assert grade(scores, rule) == expected
    assert grade(scores[:2], rule) == "pending"
    assert grade(scores, None) == "pending"
