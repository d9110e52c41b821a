"""After every other cluster test (races, writers on two nodes, a node killed and
rejoined): `flask audit verify` is clean on every node, each run with that node's own
DATABASE_URL (what the nodes hold in common is compared by the fault test)."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from tests.cluster.cluster import report


def test_flask_audit_verify_is_clean_on_every_node(cluster):
    nodes = range(1, len(cluster.db_urls) + 1)
    with ThreadPoolExecutor(len(nodes)) as pool:
        done = list(pool.map(lambda n: cluster.flask(n, "audit", "verify"), nodes))
    outputs = []
    for n, result in zip(nodes, done):
        assert result.returncode == 0, f"node {n}: {result.stdout}{result.stderr[-2000:]}"
        found = re.search(r"audit chain ok: (\d+) rows", result.stdout)
        assert found, f"node {n}: {result.stdout}"
        outputs.append(result.stdout.strip())
    report("flask audit verify: " + "; ".join(f"node {n}: {out}" for n, out in zip(nodes, outputs)))
