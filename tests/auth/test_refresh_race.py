"""Two requests presenting the same refresh token at once: exactly one gets a new pair."""
from __future__ import annotations

import threading

from tests.auth.conftest import bearer, login


def test_concurrent_rotation_of_one_token_succeeds_once(app, client, admin):
    tokens = login(client, admin.phone).get_json()
    barrier = threading.Barrier(2)
    results = []

    def rotate():
        fresh = app.test_client()
        barrier.wait()
        results.append(fresh.post("/api/v1/auth/refresh",
                                  json={"refresh_token": tokens["refresh_token"]}))

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] == 200, [r.get_json() for r in results]
    loser = next(r for r in results if r.status_code != 200)
    # The loser either saw the token spent (family revoked) or lost the lock race (SQLite).
    assert (loser.status_code, loser.get_json()["code"]) in {
        (401, "REFRESH_REUSED"), (409, "STATE_CONFLICT")}
    if loser.status_code == 401:
        winner = next(r for r in results if r.status_code == 200).get_json()
        assert client.get("/api/v1/me", headers=bearer(winner["access_token"])).status_code == 401
