"""Writers who share nothing do not refuse each other on a cluster (issue 23.3).

Two cooperatives' managers edit only their own members, each through its own app server
and so its own database node. Their transactions touch no common row — unless something
global serializes them (the single audit head row did: 59 of 200 such edits were refused
with 409 before the audit chain was split per scope, migration 0007). Every edit must
succeed, and each is read back from the other node.
"""
from __future__ import annotations

import random
import threading
import time
from functools import partial

from tests.cluster.cluster import call, race, report, statuses

EDITS = 200          # in all, half by each manager
THREADS_EACH = 2     # concurrent requests per manager (each on its own node)


def test_two_managers_on_two_nodes_editing_their_own_members_are_never_refused(cluster, demo):
    writers = [(demo.manager1, demo.coops[0], cluster.app(1)),
               (demo.manager2, demo.coops[1], cluster.app(2))]
    jobs = []
    for manager, coop_id, base in writers:
        members = demo.farmers[coop_id]
        for t in range(THREADS_EACH):
            # Each thread its own members: what a thread wrote last is what is stored.
            mine = members[t::THREADS_EACH]
            jobs.append((manager, base, mine, EDITS // len(writers) // THREADS_EACH))
    written: dict[int, str] = {}
    lock = threading.Lock()

    def edit(manager, base, members, count):
        rng, answers = random.Random(), []
        for i in range(count):
            member_id = members[i % len(members)]
            phone = f"139{rng.randrange(10**8):08d}"
            answer = call(base, "PATCH", f"/members/{member_id}", manager.token,
                          json={"phone": phone})
            answers.append(answer)
            if answer.status == 200:
                assert answer.body["phone"] == phone, answer
                with lock:
                    written[member_id] = phone
        return answers

    started = time.perf_counter()
    results = race([partial(edit, *job) for job in jobs])
    elapsed = time.perf_counter() - started
    assert not [r for r in results if isinstance(r, Exception)], results
    answers = [a for answers in results for a in answers]
    counts = statuses(answers)
    refused = len(answers) - counts.get(200, 0)
    report(f"independent writers: {len(answers)} member edits by 2 managers on nodes 1 and 2 "
           f"({THREADS_EACH} threads each) in {elapsed:.1f} s -> {counts}; refused {refused}")
    assert all(a.status == 200 or a.is_problem for a in answers), answers
    assert refused == 0, counts
    # The last phone each member was given, read through the other cooperative's node.
    for manager, coop_id, _ in writers:
        other = cluster.app(2) if coop_id == demo.coops[0] else cluster.app(1)
        page = call(other, "GET", f"/cooperatives/{coop_id}/members?per_page=100", manager.token)
        stored = {m["id"]: m["phone"] for m in page.body["items"]}
        for member_id in demo.farmers[coop_id]:
            if member_id in written:
                assert stored[member_id] == written[member_id], member_id
