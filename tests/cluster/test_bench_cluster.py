"""bench/cluster.py still runs against the cluster, at tiny sizes, and prints its figures.

It needs a running cluster, so it is smoke-tested here (under `make cluster-test`), not in
tests/bench with the other benches.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.cluster.cluster import ROOT

NUMBER = r"\d[\d,]*(\.\d+)?"


def test_cluster_bench_runs_at_tiny_sizes(cluster, demo):
    tokens = {"manager1": demo.manager1.token, "manager2": demo.manager2.token,
              "finance": demo.finance1.token, "admin": demo.admin.token}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cluster.py"), "--duration", "1", "--rounds", "1",
         "--connections", "4", "--write-seconds", "1", "--writers", "4"],
        env={**os.environ, "COOP_CLUSTER_DIR": str(cluster.dir), "PYTHONUNBUFFERED": "1",
             "COOP_BENCH_TOKENS": json.dumps(tokens)},
        capture_output=True, text=True, timeout=180)
    output = f"{done.stdout}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, output
    for pattern in (rf"1 app server, direct \(node 1\) +{NUMBER} req/s",
                    rf"nginx → 3 app servers +{NUMBER} req/s",
                    rf"entry point \(nginx → 3\) +{NUMBER} req/s",
                    r"scaling over nginx → 1: .*3 app servers " + NUMBER + "×",
                    rf"member edits +3 nodes \(entry point\) +{NUMBER} /s",
                    rf"approvals, one program +1 app server \(node 1\) +{NUMBER} /s"):
        assert re.search(pattern, done.stdout), (pattern, output)
