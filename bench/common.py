"""What every benchmark script shares: which databases to run on, the app they run, the
machine's state to print beside the numbers.

Every script takes `--db sqlite|mysql|both` (default both): SQLite is a temporary file,
MariaDB the database named by `BENCH_MYSQL_URL` (default: the script's own database on
127.0.0.1), created if missing — its tables are dropped and recreated, so point it at a
database of its own.
"""
from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_SECRETS = {"JWT_SECRET": "bench-jwt-secret-that-is-long-enough-0123456789",
                 "FIELD_ENCRYPTION_KEY": "bench-field-key-that-is-long-enough-01234"}


def add_db_option(parser) -> None:
    parser.add_argument("--db", choices=("sqlite", "mysql", "both"), default="both",
                        help="SQLite (temporary file), MariaDB (BENCH_MYSQL_URL) or both")


def targets(db_choice: str, folder: Path, default_mysql_db: str) -> list[tuple[str, str]]:
    """(label, url) of the databases chosen: a SQLite file in `folder`, then MariaDB."""
    chosen = []
    if db_choice in ("sqlite", "both"):
        chosen.append(("SQLite", f"sqlite:///{folder / 'bench.sqlite3'}"))
    if db_choice in ("mysql", "both"):
        url = os.environ.get("BENCH_MYSQL_URL",
                             f"mysql+pymysql://root@127.0.0.1:3306/{default_mysql_db}")
        create_mysql_database(url)
        chosen.append(("MariaDB", url))
    return chosen


def create_mysql_database(url: str, *, recreate: bool = False) -> None:
    """Create the URL's database if missing (drop it first when `recreate`)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    u = make_url(url)
    engine = create_engine(u.set(database=""))
    with engine.begin() as conn:
        if recreate:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{u.database}`"))
        conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{u.database}` "
                          "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()


def make_app(url: str, **config):
    """The real app in its testing configuration (no rate limits) on `url`."""
    from config import normalize_database_url
    from coop import create_app
    return create_app({"COOP_ENV": "testing", "TESTING": True, "LOG_LEVEL": "WARNING",
                       "SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
                       "RATELIMIT_ENABLED": False, **BENCH_SECRETS, **config})


def fresh_tables(db) -> None:
    db.drop_all()
    db.create_all()


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    """The load beside the CPU count: the benchmark machine is shared, say how busy."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def spread(values, unit: str = "ms", scale: float = 1000.0) -> str:
    """'median X unit (min–max of N)' for a list of seconds (or of other values)."""
    from statistics import median
    v = sorted(values)
    return (f"median {median(v) * scale:.1f} {unit} "
            f"(min {v[0] * scale:.1f}, max {v[-1] * scale:.1f}, n={len(v)})")
