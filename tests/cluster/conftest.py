"""The cluster suite: real HTTP against a running three-node cluster (issue 23).

Opt-in: collected only when COOP_CLUSTER=1 (`make cluster-test` sets it, after
`make cluster-up`); a plain `make test` does not run these. With COOP_CLUSTER=1 a missing
or unreachable cluster FAILS every test — it is never skipped.

The tests log in as the demo county's users (coop/seed.py, `flask seed demo`, which
`deploy/cluster.sh up` runs once) and create the programs, applications and share
operations they race on, so they can run again and again on the same cluster. They run in
the order of ORDER: the fault test kills and restarts a database node, so it comes after
the races, and the audit chains are verified on every node last.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.cluster.cluster import DEFAULT_DIR, REPORT, Cluster, User, call, read_env_file

if os.environ.get("COOP_CLUSTER") != "1":
    collect_ignore_glob = ["test_*.py"]

ORDER = ["test_races.py", "test_writers.py", "test_bench_cluster.py", "test_fault.py",
         "test_audit_verify.py"]

# The demo logins (coop/seed.py demo_users, demo_second_finance_user).
DEMO_PHONES = {"admin": "13800000001", "finance1": "13800000002", "finance2": "13800000006",
               "manager1": "13800000011", "manager2": "13800000012"}


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        name = Path(str(item.fspath)).name
        return ORDER.index(name) if name in ORDER else len(ORDER)
    ours = [i for i, item in enumerate(items) if "tests/cluster/" in str(item.fspath)]
    ordered = sorted((items[i] for i in ours), key=rank)   # stable: file order within
    for position, item in zip(ours, ordered):
        items[position] = item


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("cluster figures")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def cluster():
    directory = Path(os.environ.get("COOP_CLUSTER_DIR") or DEFAULT_DIR)
    env_file = directory / "env"
    if not env_file.is_file():
        pytest.fail(f"COOP_CLUSTER=1 but no cluster: {env_file} is missing "
                    "(make cluster-up)", pytrace=False)
    found = Cluster(directory, read_env_file(env_file))
    # A loaded machine may hold a /readyz for seconds: a server gets 30 s to answer.
    deadline = time.monotonic() + 30
    down = [found.entry, *found.apps]
    while down and time.monotonic() < deadline:
        down = [base for base in down if not found.ready(base)]
        if down:
            time.sleep(1)
    if down:
        pytest.fail(f"COOP_CLUSTER=1 but the cluster does not answer: {down} not ready "
                    f"(deploy/cluster.sh status)", pytrace=False)
    for n in range(1, len(found.db_urls) + 1):
        size = found.wsrep(n, "wsrep_cluster_size")
        assert size == str(len(found.db_urls)), f"node {n}: wsrep_cluster_size {size}"
    yield found
    found.dispose()


def login(cluster: Cluster, phone: str) -> User:
    from coop.seed import DEMO_PASSWORD
    answer = call(cluster.entry, "POST", "/auth/login",
                  json={"phone": phone, "password": DEMO_PASSWORD})
    # 429: the demo phone's login limit (5 a minute, 20 an hour) is spent by earlier runs.
    assert answer.status == 200, f"login {phone}: {answer}"
    token = answer.body["access_token"]
    me = call(cluster.entry, "GET", "/me", token)
    assert me.status == 200, me
    return User(phone, token, me.body["id"], me.body["roles"])


@pytest.fixture(scope="session")
def demo(cluster):
    """The demo county's users, logged in once per run through the entry point, and the
    ids they work on: the county, the two cooperatives, their farmers."""
    users = {name: login(cluster, phone) for name, phone in DEMO_PHONES.items()}
    county_id = users["admin"].roles[0]["scope_id"]
    coops = [users[m].roles[0]["scope_id"] for m in ("manager1", "manager2")]
    farmers = {}
    for manager, coop_id in zip(("manager1", "manager2"), coops):
        page = call(cluster.entry, "GET", f"/cooperatives/{coop_id}/members?per_page=100",
                    users[manager].token)
        assert page.status == 200, page
        farmers[coop_id] = [m["id"] for m in page.body["items"]
                            if m["member_type"] == "farmer" and m["status"] == "active"]
        assert len(farmers[coop_id]) >= 8, farmers
    return SimpleNamespace(**users, county_id=county_id, coops=coops, farmers=farmers)
