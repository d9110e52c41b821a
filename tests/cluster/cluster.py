"""The running cluster as the tests see it: its env file, HTTP calls to its servers, SQL on
its nodes, and requests released together from many threads.

The cluster is the one `deploy/cluster.sh up` started (docs/operations.md "Cluster"): its
env file `$COOP_CLUSTER_DIR/env` names the entry point, the three app servers (server N
talks to database node N) and one database URL per node.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = "/tmp/coop-cluster"
TIMEOUT = 60          # seconds; nginx waits 65 s for an app server, gunicorn kills at 60 s
PROBLEM_JSON = "application/problem+json"

# Figures the tests measured, printed at the end of the run (conftest.py).
REPORT: list[str] = []


def report(line: str) -> None:
    REPORT.append(line)


def read_env_file(path: Path) -> dict[str, str]:
    """`export NAME='value'` lines, as deploy/cluster.sh writes them."""
    values = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            words = words[1:]
        for word in words:
            name, sep, value = word.partition("=")
            if sep:
                values[name] = value
    return values


@dataclass
class Answer:
    """One HTTP exchange: `status` None when no response came (connection error)."""
    status: int | None
    body: object = None
    headers: dict = field(default_factory=dict)
    error: str = ""
    base: str = ""

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def replayed(self) -> bool:
        return self.headers.get("Idempotent-Replayed") == "true"

    @property
    def is_problem(self) -> bool:
        """The contract's error format: problem+json with a machine code and a detail."""
        return (self.headers.get("Content-Type", "").startswith(PROBLEM_JSON)
                and isinstance(self.body, dict) and bool(self.body.get("code"))
                and bool(self.body.get("detail")) and self.body.get("status") == self.status)

    def __repr__(self) -> str:
        what = self.error or (self.code or str(self.body)[:200])
        return f"<{self.status} {what} via {self.base}>"


def call(base: str, method: str, path: str, token: str | None = None, json=None,
         key: str | None = None, timeout: float = TIMEOUT) -> Answer:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    try:
        response = requests.request(method, base + "/api/v1" + path, json=json,
                                    headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return Answer(None, error=f"{type(exc).__name__}: {exc}", base=base)
    try:
        body = response.json()
    except ValueError:
        body = response.text[:500]
    return Answer(response.status_code, body, dict(response.headers), base=base)


def call_until_decided(base: str, method: str, path: str, token: str, json=None,
                       key: str | None = None, tries: int = 8) -> tuple[Answer, int]:
    """What a client does with a 409 STATE_CONFLICT "lost a race, nothing changed": ask
    again (with the same Idempotency-Key, so that it takes effect once). Returns the last
    answer and how many 409s came before it."""
    for attempt in range(tries):
        answer = call(base, method, path, token, json=json, key=key)
        if answer.status != 409 or answer.code != "STATE_CONFLICT":
            return answer, attempt
        time.sleep(0.05 * (attempt + 1))
    return answer, tries


def race(calls, timeout: float = 180) -> list:
    """Run every zero-argument callable on its own thread, all released at once by a
    barrier; their results in order (an exception raised is returned in its place)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, fn):
        barrier.wait()
        try:
            results[index] = fn()
        except Exception as exc:   # noqa: BLE001 (handed to the test, which fails on it)
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True)
               for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "requests still running"
    return results


def statuses(answers) -> dict:
    """{status: count}, e.g. {200: 31, 422: 19}."""
    counts: dict = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))


def new_key(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex}"


@dataclass
class User:
    phone: str
    token: str
    id: int
    roles: list


class Cluster:
    def __init__(self, directory: Path, env: dict[str, str]):
        self.dir = directory
        self.env = env
        self.entry = env["COOP_CLUSTER_ENTRY"]
        self.apps = env["COOP_CLUSTER_APPS"].split()
        self.db_urls = env["COOP_CLUSTER_DB_URLS"].split()
        self._engines: dict[int, object] = {}

    # --- app servers: self.apps[n - 1] talks to node n ------------------------------------

    def app(self, n: int) -> str:
        return self.apps[n - 1]

    def ready(self, base: str) -> bool:
        try:
            return requests.get(base + "/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    # --- database nodes (1-based) ------------------------------------------------------------

    def engine(self, n: int):
        if n not in self._engines:
            # No pool: a node may be killed and restarted under the tests.
            from sqlalchemy.pool import NullPool
            self._engines[n] = create_engine(self.db_urls[n - 1], poolclass=NullPool)
        return self._engines[n]

    def sql(self, n: int, query: str, **params) -> list:
        with self.engine(n).connect() as conn:
            return [tuple(row) for row in conn.execute(text(query), params)]

    def scalar(self, n: int, query: str, **params):
        [(value,)] = self.sql(n, query, **params)
        return value

    def wsrep(self, n: int, name: str) -> str:
        rows = self.sql(n, "SHOW GLOBAL STATUS LIKE :name", name=name)
        return rows[0][1] if rows else ""

    def pidfile(self, n: int) -> Path:
        return self.dir / f"node{n}" / "mysqld.pid"

    def script(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """deploy/cluster.sh with this cluster's state directory."""
        return subprocess.run(["bash", str(ROOT / "deploy" / "cluster.sh"), *args],
                              env={**os.environ, "COOP_CLUSTER_DIR": str(self.dir)},
                              capture_output=True, text=True, timeout=timeout)

    def flask(self, n: int, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A `flask` command against node n's database, with the keys the servers use.
        Development, as the Makefile's cluster-test runs it: production would also ask
        for the servers' rate-limit storage, which a one-off command does not use."""
        env = {**os.environ, "DATABASE_URL": self.db_urls[n - 1], "COOP_ENV": "development",
               "FLASK_APP": "wsgi", "LOG_LEVEL": "WARNING"}
        for name in ("JWT_SECRET", "FIELD_ENCRYPTION_KEY", "SECRET_KEY"):
            env[name] = self.env[name]
        return subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=timeout)

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
