"""Cluster benchmark: the mixed read workload over 1, 2 and 3 app servers, and the write
throughput of one county, against the running local cluster (`make cluster-up`).

    .venv/bin/python bench/cluster.py                     # wrk 5 s per run, 32 connections
    .venv/bin/python bench/cluster.py --duration 1 --connections 4 --write-seconds 1

Reads the cluster's env file ($COOP_CLUSTER_DIR/env, default /tmp/coop-cluster/env: the
entry point, the app servers, server N on database node N) and logs in as the demo county's
users (coop/seed.py), or takes their access tokens from COOP_BENCH_TOKENS (JSON: manager1,
manager2, finance, admin). Nothing is seeded: the reads are the demo county's.

Reads. bench/load.py's mix (an object read, a members page of 20, the subsidy applications
page of 20) plus a program read, driven by wrk, against:
* one app server directly (server 1 on node 1), no proxy;
* a throwaway nginx of this script's own, round-robin over the first 1, 2 and 3 app
  servers (the same proxy in every row: the rows differ only by the servers behind it);
* the cluster's entry point (nginx over all three).
Each app server runs COOP_CLUSTER_WORKERS gunicorn workers (2 by default) on the same
machine: when the machine's cores are the limit, more servers add no req/s.

Writes of one county, from --writers client threads for --write-seconds, through one app
server (one node) and through the entry point (three nodes):
* member edits (PATCH /members/{id}) spread over the county's cooperatives — serialized
  per cooperative by that cooperative's audit chain head (coop/audit.py), nothing
  county-wide;
* subsidy approvals on one program — every approval reserves from the program's row
  (`SELECT … FOR UPDATE`, then `committed_fen` updated): one program's approvals are
  one at a time on one node, and on three nodes conflicting ones are found at
  certification (1213) and re-run by the app (coop/transaction.py), a 409 after the last
  attempt.
Printed: successes/s, and the 409s (lost after the app's retries) per run.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import common  # first: puts the repository on sys.path
import load    # bench/load.py: its endpoint check and wrk's time units
import requests

from coop.clock import today
from coop.seed import DEMO_PASSWORD

PHONES = {"manager1": "13800000011", "manager2": "13800000012", "finance": "13800000002",
          "admin": "13800000001"}
NGINX = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream apps {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://apps;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


# --- the cluster ------------------------------------------------------------------------------

def cluster_env() -> dict[str, str]:
    path = Path(os.environ.get("COOP_CLUSTER_DIR") or "/tmp/coop-cluster") / "env"
    if not path.is_file():
        raise SystemExit(f"no cluster: {path} is missing (make cluster-up)")
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            values[name] = value.strip("'")
    return values


def api(base: str, method: str, path: str, token: str | None = None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=60, **kw)


def login(entry: str, phone: str) -> str:
    r = api(entry, "POST", "/auth/login", json={"phone": phone, "password": DEMO_PASSWORD})
    if r.status_code != 200:
        raise SystemExit(f"login {phone}: {r.status_code} {r.text[:200]}")
    return r.json()["access_token"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx(backends: list[str], folder: Path) -> tuple[subprocess.Popen, str]:
    """nginx round-robin over `backends` (base URLs) on a free port."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server {b.split('://', 1)[1]};" for b in backends)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX.format(dir=folder, servers=servers, port=port))
    proc = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(conf), "-e",
                             str(folder / "error.log"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"nginx did not start on :{port}: {proc.stderr.read()[-500:]!r}")


# --- reads ------------------------------------------------------------------------------------

# bench/load.py's Lua builds its requests when the script loads, before wrk has set its Host
# header: gunicorn answers a request without Host, nginx refuses it (400). Built in init(),
# after wrk.init, each request carries Host.
LUA = """
local paths = {%s}
local reqs = {}
function init(args)
  for n, r in ipairs(paths) do reqs[n] = wrk.format("GET", r[1], r[2]) end
end
local i = 0
function request()
  i = i %% #reqs + 1
  return reqs[i]
end
"""


def wrk(base: str, mix: list[tuple[str, str]], connections: int, duration: int,
        folder: Path) -> dict:
    """requests/s, p50 and p99 (ms) of `mix` in turn; refuses a run with errors."""
    script = folder / "mix.lua"
    script.write_text(LUA % ", ".join(
        f'{{"{path}", {{["Authorization"]="Bearer {token}"}}}}' for path, token in mix))
    out = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}",
                          f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(script),
                          base], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"errors under load:\n{out}")

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * load.UNITS[unit]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": pct(50), "p99": pct(99)}

def read_mix(entry: str, tokens: dict) -> list[tuple[str, str]]:
    coop_id = roles_scope(entry, tokens["manager1"])
    members = api(entry, "GET", f"/cooperatives/{coop_id}/members?per_page=20",
                  tokens["manager1"]).json()["items"]
    programs = api(entry, "GET", f"/counties/{roles_scope(entry, tokens['finance'])}/programs",
                   tokens["finance"]).json()["items"]
    mix = [(f"/api/v1/members/{members[len(members) // 2]['id']}", tokens["manager1"]),
           (f"/api/v1/cooperatives/{coop_id}/members?per_page=20", tokens["manager1"]),
           ("/api/v1/subsidy-applications?per_page=20", tokens["finance"]),
           (f"/api/v1/programs/{programs[-1]['id']}", tokens["finance"])]
    for path, token in mix:
        load.check(entry + path, token)
    return mix


def roles_scope(entry: str, token: str) -> int:
    return api(entry, "GET", "/me", token).json()["roles"][0]["scope_id"]


def reads(env: dict, tokens: dict, args, folder: Path) -> list[tuple[str, dict]]:
    apps = env["COOP_CLUSTER_APPS"].split()
    mix = read_mix(env["COOP_CLUSTER_ENTRY"], tokens)
    rows = []

    def measure(label: str, base: str) -> None:
        runs = [wrk(base, mix, args.connections, args.duration, folder)
                for _ in range(args.rounds)]
        r = sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]
        rows.append((label, r))
        print(f"   {label:36} {r['rps']:7.0f} req/s  p50 {r['p50']:7.2f} ms  "
              f"p99 {r['p99']:7.2f} ms", flush=True)

    print(f"\n## mixed reads, c={args.connections}, wrk {args.duration} s × {args.rounds} "
          f"(median round)", flush=True)
    measure("1 app server, direct (node 1)", apps[0])
    for count in range(1, len(apps) + 1):
        proc, base = start_nginx(apps[:count], folder / f"nginx{count}")
        try:
            measure(f"nginx → {count} app server{'s' if count > 1 else ''}", base)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    measure(f"entry point (nginx → {len(apps)})", env["COOP_CLUSTER_ENTRY"])
    one = rows[1][1]["rps"]
    print("   scaling over nginx → 1: " + ", ".join(
        f"{label.split('→ ')[1]} {r['rps'] / one:.2f}×" for label, r in rows[1:1 + len(apps)]),
        flush=True)
    return rows


# --- writes -----------------------------------------------------------------------------------

def run_writers(bases: list[str], work, seconds: float, writers: int) -> dict:
    """`work(base)` → an HTTP status, or None when there is nothing left to do; from
    `writers` threads, writer i on bases[i % len(bases)], for `seconds`."""
    counts: dict = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def writer(i):
        base = bases[i % len(bases)]
        while time.monotonic() < stop:
            status = work(base)
            if status is None:
                return
            with lock:
                counts[status] = counts.get(status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ok = sum(n for status, n in counts.items() if status < 300)
    return {"per_s": ok / elapsed, "counts": counts, "seconds": elapsed}


def member_edits(tokens: dict, entry: str):
    """PATCH /members/{id} on both cooperatives of the county, in turn."""
    jobs = []
    for manager in ("manager1", "manager2"):
        coop_id = roles_scope(entry, tokens[manager])
        items = api(entry, "GET", f"/cooperatives/{coop_id}/members?per_page=100",
                    tokens[manager]).json()["items"]
        jobs += [(tokens[manager], m["id"]) for m in items if m["member_type"] == "farmer"]
    turn = iter(range(10**9))
    lock = threading.Lock()

    def work(base):
        with lock:
            n = next(turn)
        token, member_id = jobs[n % len(jobs)]
        return api(base, "PATCH", f"/members/{member_id}", token,
                   json={"phone": f"137{n % 10**8:08d}"}).status_code
    return work


def approvals(tokens: dict, entry: str, count: int):
    """A program with room for every approval and `count` applications to approve."""
    county_id = roles_scope(entry, tokens["admin"])
    program = api(entry, "POST", f"/counties/{county_id}/programs", tokens["admin"],
                  json={"name": "压测专项", "year": today().year, "budget_fen": 10**12}).json()
    coop_id = roles_scope(entry, tokens["manager1"])
    pending: queue.Queue = queue.Queue()

    def submit(_base):
        r = api(entry, "POST", f"/cooperatives/{coop_id}/subsidy-applications",
                tokens["manager1"], json={"program_id": program["id"], "amount_fen": 1_000,
                                          "purpose": "压测"})
        if r.status_code == 201:
            pending.put(r.json()["id"])
        return r.status_code if pending.qsize() < count else None
    run_writers([entry], submit, 600, 4)

    def work(base):
        try:
            app_id = pending.get_nowait()
        except queue.Empty:
            return None
        return api(base, "POST", f"/subsidy-applications/{app_id}/approve",
                   tokens["finance"]).status_code
    return work, pending


def writes(env: dict, tokens: dict, args) -> list:
    entry, apps = env["COOP_CLUSTER_ENTRY"], env["COOP_CLUSTER_APPS"].split()
    print(f"\n## writes of one county, {args.writers} client threads, {args.write_seconds} s "
          "per run", flush=True)
    rows = []
    edit = member_edits(tokens, entry)
    for label, bases in (("1 app server (node 1)", apps[:1]), ("3 nodes (entry point)", [entry])):
        r = run_writers(bases, edit, args.write_seconds, args.writers)
        rows.append(("member edits", label, r))
        print_write(rows[-1])
    # Enough applications for ~250 approvals/s (one node managed 120/s); if they run out
    # the figure is printed as a lower bound. The rest stay submitted.
    need = int(args.write_seconds * 250) + 10
    for label, bases in (("1 app server (node 1)", apps[:1]), ("3 nodes (entry point)", [entry])):
        approve, pending = approvals(tokens, entry, need)
        r = run_writers(bases, approve, args.write_seconds, args.writers)
        if pending.empty():
            print("   (every prepared application was approved before the time was up: "
                  "the figure is a lower bound)", flush=True)
        rows.append(("approvals, one program", label, r))
        print_write(rows[-1])
    return rows


def print_write(row) -> None:
    what, label, r = row
    print(f"   {what:24} {label:24} {r['per_s']:6.1f} /s  answers {r['counts']}  "
          f"({r['seconds']:.1f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per row (median)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--write-seconds", type=float, default=5.0)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        raise SystemExit("needs wrk and nginx (apt-get install wrk nginx)")
    env = cluster_env()
    if os.environ.get("COOP_BENCH_TOKENS"):
        # Access tokens of the demo users given by the caller (tests/cluster: a demo phone
        # may log in 20 times an hour, and the tests have logged in already).
        tokens = json.loads(os.environ["COOP_BENCH_TOKENS"])
    else:
        tokens = {name: login(env["COOP_CLUSTER_ENTRY"], phone)
                  for name, phone in PHONES.items()}
    workers = os.environ.get("COOP_CLUSTER_WORKERS", "2")
    print(f"cluster {env['COOP_CLUSTER_ENTRY']}: app servers {env['COOP_CLUSTER_APPS']} "
          f"({workers} gunicorn workers each unless the cluster was started otherwise); "
          f"{common.machine()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="coop-bench-cluster-"))
    try:
        reads(env, tokens, args, folder)
        writes(env, tokens, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{common.machine()}", flush=True)


if __name__ == "__main__":
    main()
