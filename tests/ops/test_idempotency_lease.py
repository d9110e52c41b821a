"""The Idempotency-Key of a request that died (its claim committed, its answer never
stored) is taken over by a repeat once no live request can still hold it, and not before."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from coop.dbtypes import utcnow
from coop.idempotency import DEFAULT_LEASE_SECONDS, IN_PROGRESS, IdempotencyRecord


def _submitted_operation(client, make):
    coop = make.cooperative()
    member = make.member(coop)
    user, h = make.login("coop_manager", coop)
    op = client.post(f"/api/v1/cooperatives/{coop.id}/share-operations", json={
        "type": "subscribe", "member_id": member.id, "kind": "cash", "amount_fen": 50_000,
        "effective_on": "2024-03-01"}, headers=h).get_json()
    return user, h, f"/api/v1/share-operations/{op['id']}/approve"


def _dead_claim(db, user, path, age: timedelta):
    """What a killed request leaves: its key claimed for exactly this request, no answer."""
    from flask import Flask
    from coop.idempotency import _request_hash
    with Flask(__name__).test_request_context(path, method="POST"):
        digest = _request_hash()
    db.session.add(IdempotencyRecord(user_id=user.id, key="k-dead", request_hash=digest,
                                     state=IN_PROGRESS, created_at=utcnow() - age))
    db.session.commit()


def test_a_claim_older_than_the_lease_is_taken_over_and_answered(client, make, db):
    user, h, path = _submitted_operation(client, make)
    _dead_claim(db, user, path, timedelta(seconds=DEFAULT_LEASE_SECONDS + 5))
    response = client.post(path, headers={**h, "Idempotency-Key": "k-dead"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    replay = client.post(path, headers={**h, "Idempotency-Key": "k-dead"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == response.get_json()
    record = db.session.execute(select(IdempotencyRecord)
                                .where(IdempotencyRecord.key == "k-dead")).scalar_one()
    assert record.state == "done"


def test_a_claim_younger_than_the_lease_may_still_be_running_and_answers_409(client, make, db):
    user, h, path = _submitted_operation(client, make)
    _dead_claim(db, user, path, timedelta(seconds=DEFAULT_LEASE_SECONDS - 30))
    response = client.post(path, headers={**h, "Idempotency-Key": "k-dead"})
    assert response.status_code == 409
    assert response.get_json()["code"] == "STATE_CONFLICT"
