"""CPU time per request, in process: the app's own Python, whatever else the machine runs.

    .venv/bin/python bench/request_cpu.py --db sqlite
    .venv/bin/python bench/request_cpu.py --db sqlite --requests 200 --rounds 1 --coops 2 --members 20
    .venv/bin/python bench/request_cpu.py --db mysql              # BENCH_MYSQL_URL

bench/load.py measures requests/s through gunicorn and wrk, which on a shared machine
moves with everyone else's load. This seeds the same county as load.py (its `seed`),
builds the app and bench/minimal_app.py on it in this process, and sends each request
straight to the WSGI callable (`app.wsgi_app(environ, start_response)`, the environ
built once by werkzeug's EnvironBuilder), `--requests` times a round, timing
`time.process_time()`: this process's CPU, not the wall clock, so time spent waiting for
a core does not count (on MariaDB the server's CPU is not in it; the driver's is).

Printed per request: the minimal JWT + ORM app's read, the object read, a cooperative's
members page of 20 and the county's applications page of 20 (the requests of issue 22),
best and median round, and each as a multiple of the minimal app's CPU.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common  # first: puts the repository on sys.path
from werkzeug.test import EnvironBuilder

import load
from coop import create_app

DEFAULT_MYSQL_DB = "coop_bench_request_cpu"


def environ(path: str, token: str) -> dict:
    return EnvironBuilder(path=path, headers={"Authorization": f"Bearer {token}"}).get_environ()


def call(wsgi_app, env: dict) -> tuple[str, bytes]:
    status = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    body = wsgi_app(dict(env), start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return status[0], data


def cpu_per_request(wsgi_app, env: dict, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        call(wsgi_app, env)
    return (time.process_time() - start) / n


def minimal_app(url: str):
    """bench/minimal_app.py reads its database and key from the environment at import."""
    os.environ["DATABASE_URL"] = url
    os.environ["JWT_SECRET"] = load.SECRETS["JWT_SECRET"]
    sys.modules.pop("minimal_app", None)
    return importlib.import_module("minimal_app").app


def run(label: str, url: str, args) -> None:
    print(f"\n## {label}: seeding {args.coops} cooperatives × {args.members} members …",
          flush=True)
    data = load.seed(url, args.coops, args.members)
    # As gunicorn serves it in bench/load.py: production settings, rate limits on Redis,
    # no per-request log line of the app's own (gunicorn.conf.py), INFO logging.
    app = create_app({"COOP_ENV": "production", "SQLALCHEMY_DATABASE_URI": url,
                      "JWT_ACCESS_SECONDS": 3600, "REQUEST_LOG": False,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14", "LOG_LEVEL": "INFO",
                      **load.SECRETS})
    minimal = minimal_app(url)
    tok = data["tokens"]
    requests = {
        "minimal JWT+ORM": (minimal, f"/minimal/members/{data['member_id']}", tok["manager"]),
        "object read": (app, f"/api/v1/members/{data['member_id']}", tok["manager"]),
        "members page": (app, f"/api/v1/cooperatives/{data['coop_id']}/members?per_page=20",
                         tok["manager"]),
        "applications page": (app, "/api/v1/subsidy-applications?per_page=20",
                              tok["finance"]),
    }
    envs = {}
    for name, (flask_app, path, token) in requests.items():
        envs[name] = environ(path, token)
        status, body = call(flask_app.wsgi_app, envs[name])
        if not status.startswith("200"):
            raise SystemExit(f"{name} {path}: {status} {body[:300]!r}")
    rounds: dict[str, list[float]] = {name: [] for name in requests}
    for _ in range(args.rounds):
        # Interleaved: a round of every request, then the next, so a busy minute of the
        # machine touches each of them alike.
        for name, (flask_app, _path, _token) in requests.items():
            cpu_per_request(flask_app.wsgi_app, envs[name], max(args.requests // 10, 1))
            rounds[name].append(cpu_per_request(flask_app.wsgi_app, envs[name],
                                                args.requests))
    best_minimal = min(rounds["minimal JWT+ORM"])
    for name, values in rounds.items():
        best = min(values)
        print(f"   {label:8} {name:18} CPU per request: best {best * 1e6:7.0f} µs, "
              f"median {statistics.median(values) * 1e6:7.0f} µs "
              f"({len(values)} rounds of {args.requests}); "
              f"{best / best_minimal:4.2f}× the minimal app", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_db_option(parser)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--coops", type=int, default=30)
    parser.add_argument("--members", type=int, default=500)
    args = parser.parse_args()
    print(f"bench/request_cpu.py: {args.rounds} rounds of {args.requests} requests; "
          f"{common.machine()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="coop-bench-cpu-"))
    for label, url in common.targets(args.db, folder, DEFAULT_MYSQL_DB):
        run(label, url, args)


if __name__ == "__main__":
    main()
