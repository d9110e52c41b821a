"""Every benchmark script still runs against the code, at tiny sizes, and prints its numbers.

A benchmark nobody runs rots silently (bench/distribution.py called functions that no
longer existed); this runs each script in bench/ as a subprocess, as a person would, on
the suite's database: SQLite, or MariaDB when TEST_DATABASE_URL is a mysql URL — then in a
database of the bench's own beside the test database (a bench drops and recreates its
tables, load.py the whole database), dropped afterwards. bench/ceiling_app.py and bench/minimal_app.py
are not run by hand: load.py serves both and refuses to measure unless they answer 200.

Also: benches call the project's public functions only (no `module._private`), so a
refactoring that keeps the public surface cannot break them unnoticed.
"""
from __future__ import annotations

import ast
import os
import random
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
NUMBER = r"\d[\d,]*(\.\d+)?"

# script: (tiny-size arguments, lines it must print once per database, each with a number)
SCRIPTS = {
    "distribution.py": (["--members", "30", "--rounds", "1"], [
        rf"30-member plan computed \+ persisted .*: {NUMBER} ms median",
        rf"peak memory: process {NUMBER} MB"]),
    "shares.py": (["--members", "30", "--lines", "300", "--approvals", "4", "--runs", "1"], [
        rf"register_as_of \(mid-history\): median +{NUMBER} ms",
        rf"GET share-register \(mid-history, HTTP\): median +{NUMBER} ms",
        rf"approvals back-dated to early history: 1 in {NUMBER} s"]),
    "registry.py": (["--coops", "2", "--members", "10", "--rows", "40"], [
        rf"seed county 2x10 \(s\) +{NUMBER}",
        rf"import 40-row xlsx \(s\) +{NUMBER}",
        rf"member list p95 @40 \(ms\) +{NUMBER}"]),
    "reports.py": (["--coops", "2", "--rounds", "1"], [
        rf"county report / raw dump: {NUMBER}× wall",
        rf"dashboard \(2 cooperatives\): median {NUMBER} ms"]),
    "city.py": (["--counties", "2", "--coops", "3", "--members", "10", "--rounds", "1"], [
        rf"GET /reports/dashboard\?city_id: median {NUMBER} ms",
        rf"figures_of_counties alone: median {NUMBER} ms"]),
    "request_cpu.py": (["--coops", "2", "--members", "20", "--requests", "20",
                        "--rounds", "1"], [
        rf"minimal JWT\+ORM +CPU per request: best +{NUMBER} µs",
        rf"object read +CPU per request: best +{NUMBER} µs",
        rf"members page +CPU per request: best +{NUMBER} µs",
        rf"applications page +CPU per request: best +{NUMBER} µs"]),
    "load.py": (["--coops", "2", "--members", "20", "--duration", "1", "--rounds", "1",
                 "--connections", "4"], [
        rf"c=4 +object read +{NUMBER} req/s +p50 +{NUMBER} ms",
        rf"c=4 +members page +{NUMBER} req/s .* {NUMBER}% of minimal",
        rf"c=4 +mix +{NUMBER} req/s .* {NUMBER}% of minimal"]),
}
TIMEOUT = 180   # seconds for one script; tiny sizes take 3–30 s on the 2-core machine


def test_every_bench_script_is_smoke_tested():
    scripts = {p.name for p in BENCH.glob("*.py")}
    served = {"ceiling_app.py", "minimal_app.py", "common.py"}   # not run by hand
    # Needs a running cluster: smoke-tested by tests/cluster/test_bench_cluster.py.
    cluster = {"cluster.py"}
    assert scripts - served - cluster == set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_bench_runs_at_tiny_sizes(script, tmp_path):
    args, expected = SCRIPTS[script]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    mysql = _bench_database(script)
    if mysql:
        env["BENCH_MYSQL_URL"] = mysql
    db, label = ("mysql", "MariaDB") if mysql else ("sqlite", "SQLite")
    if script == "load.py":
        assert shutil.which("wrk"), (
            "bench/load.py needs wrk and it is not installed: apt-get install wrk "
            "(.ci/run installs it with the other system packages)")
        args = [*args, "--port", str(_free_ports(3))]
    try:
        done = subprocess.run([sys.executable, str(BENCH / script), "--db", db, *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
    finally:
        if mysql:
            _drop(mysql)
    report = f"bench/{script} --db {db} {' '.join(args)}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, report
    assert label in done.stdout, report
    for pattern in expected:
        assert re.search(pattern, done.stdout), (pattern, report)


def test_benches_call_public_functions_only():
    """No `x._name` and no `from coop… import _name` in bench/: benches use what the
    application itself offers, the way a route or a command does."""
    offences = []
    for path in sorted(BENCH.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                offences.append(f"{path.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom):
                offences += [f"{path.name}:{node.lineno} import {alias.name}"
                             for alias in node.names if alias.name.startswith("_")]
    assert offences == []


def _bench_database(script: str) -> str | None:
    """A MariaDB URL for this script's own database beside the test database, or None."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("mysql"):
        return None
    u = make_url(url)
    return u.set(database=f"{u.database}_bench_{Path(script).stem}"[:64]) \
        .render_as_string(hide_password=False)


def _drop(url: str) -> None:
    u = make_url(url)
    engine = create_engine(u.set(database=""))
    with engine.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{u.database}`"))
    engine.dispose()


def _free_ports(count: int) -> int:
    """The first of `count` consecutive free TCP ports on 127.0.0.1 (load.py serves the
    app, the ceiling and the minimal app on port, port + 1, port + 2)."""
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(20_000, 60_000)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")
