"""`flask backup create --out DIR` and `flask backup restore DIR`: the database and the
attachment store, copied so that a lost disk loses nothing (docs/operations.md, "Backups").

A backup directory holds the database (`database.sqlite3`, made with SQLite's online
backup API, never a file copy of a live database; or `database.sql` from `mariadb-dump
--single-transaction`), under `attachments/` every file the database's attachment rows
name, read through the attachment store (coop/storage.py: a local directory or an
S3-compatible bucket) and checked against its hash, and `manifest.json`, written last: a
directory without it is an unfinished backup and is never restored. The manifest records
when, the migration head, every table's row count and the sum of each of
its `*_fen` columns (the register, plans, batches, programs, rewards: every money total),
the audit chains' heads (the index of chains: each chain's sequence and hash), the
SHA-256 of every file, and a keyed hash that proves which FIELD_ENCRYPTION_KEY the data
was encrypted under.

Restore checks everything it can before it writes anything: the files' hashes, the key,
the kind of database, an empty target (unless `--force`). Then it loads the copy and
compares the restored tables with the manifest, naming any table that differs.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Blueprint
from flask.cli import with_appcontext
from sqlalchemy import BigInteger, Integer, MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

import coop.clock as clock
import coop.crypto as crypto
import coop.storage as storage
from coop.extensions import db

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
MYSQL_FILE = "database.sql"
ATTACHMENTS = "attachments"
# The text whose keyed hash (crypto.blind_index, an HMAC under a key derived from
# FIELD_ENCRYPTION_KEY) stands in the manifest: it proves the key without revealing it.
KEY_CHECK_TEXT = "coop backup key check v1"
# Tables a fresh schema (`flask db upgrade`) already fills: a target holding only these
# rows is still empty.
SCHEMA_ONLY_ROWS = {"alembic_version", "audit_head"}
# A MariaDB dump is consistent in itself; the manifest is counted beside it and taken
# again after it, and kept only when nothing changed in between (else: try again).
DUMP_ATTEMPTS = 3
CHUNK = 1 << 20

cli = Blueprint("backup_cli", __name__, cli_group="backup")


class BackupError(click.ClickException):
    """A refusal: one line on stderr, exit status 1, nothing written."""


# --- what a database holds ----------------------------------------------------------------

def key_check() -> str:
    return crypto.blind_index(KEY_CHECK_TEXT)


def snapshot(conn: Connection) -> dict:
    """Row counts and money totals of every table, the audit chains' heads and the
    migration head, read through `conn` (one transaction, so one moment)."""
    meta = MetaData()
    meta.reflect(conn)
    tables = {}
    for table in sorted(meta.tables.values(), key=lambda t: t.name):
        money = [c for c in table.columns if c.name.endswith("_fen")
                 and isinstance(c.type, (Integer, BigInteger))]
        row = conn.execute(select(func.count(), *[func.sum(c) for c in money])
                           .select_from(table)).one()
        tables[table.name] = {"rows": int(row[0]),
                              "fen": {c.name: int(v or 0) for c, v in zip(money, row[1:])}}
    audit_heads = None
    if "audit_head" in meta.tables:
        # One row per chain (coop/audit.py); before migration 0007 one row, id 1: the root.
        name = "chain" if "chain" in meta.tables["audit_head"].c else "'system'"
        audit_heads = {row.chain: {"seq": int(row.seq), "hash": row.hash}
                       for row in conn.execute(text(
                           f"SELECT {name} AS chain, seq, hash FROM audit_head"))}
    migration = None
    if "alembic_version" in meta.tables:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        migration = ",".join(sorted(versions)) or None
    return {"migration_head": migration, "audit_heads": audit_heads, "tables": tables}


def audit_heads_of(manifest: dict) -> dict | None:
    """The manifest's heads index; a manifest written before chains were split recorded
    the one head as `audit_head`, which is the root chain's."""
    if "audit_heads" in manifest or "audit_head" not in manifest:
        return manifest.get("audit_heads")
    return None if manifest["audit_head"] is None else {"system": manifest["audit_head"]}


@contextmanager
def _one_moment(engine: Engine):
    """A connection whose reads all see one committed state on MariaDB (its default READ
    COMMITTED would let each SELECT see a newer one). SQLite is counted from the backup's
    own copy, which nobody writes."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def is_empty(engine: Engine) -> bool:
    """No rows beyond what a fresh schema holds (its migration stamp, a genesis audit head)."""
    state = snapshot_of(engine)
    if any(head["seq"] for head in (state["audit_heads"] or {}).values()):
        return False
    return not any(t["rows"] for name, t in state["tables"].items()
                   if name not in SCHEMA_ONLY_ROWS)


def snapshot_of(engine: Engine) -> dict:
    with _one_moment(engine) as conn:
        return snapshot(conn)


def differences(expected: dict, found: dict) -> list[str]:
    """What the restored database holds that the manifest does not say, table by table."""
    out = []
    if expected.get("migration_head") != found.get("migration_head"):
        out.append(f"migration_head: manifest {expected.get('migration_head')}, "
                   f"restored {found.get('migration_head')}")
    want_heads, got_heads = audit_heads_of(expected) or {}, found.get("audit_heads") or {}
    for chain in sorted(set(want_heads) | set(got_heads)):
        if want_heads.get(chain) != got_heads.get(chain):
            out.append(f"audit chain {chain}: manifest head {want_heads.get(chain)}, "
                       f"restored {got_heads.get(chain)}")
    want, got = expected["tables"], found["tables"]
    for name in sorted(set(want) | set(got)):
        if want.get(name) != got.get(name):
            out.append(f"table {name}: manifest {want.get(name)}, restored {got.get(name)}")
    return out


# --- files --------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _write_hashed(dst: Path, data: bytes) -> str:
    """Write through a temporary name and rename: `dst` is whole or absent. Returns the
    SHA-256 of what was written."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fout:
            fout.write(data)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def _write_json_atomically(path: Path, value: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, ensure_ascii=False, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def named_files(engine: Engine) -> list[str]:
    """The SHA-256 of every file an attachment row names. Rows are never deleted, so read
    after the database was copied this names every file the copy names (and perhaps the
    file of a row written since, which is harmless)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("attachments"):
            return []
        return sorted(conn.execute(text("SELECT DISTINCT sha256 FROM attachments")).scalars())


@contextmanager
def _store_errors(store: storage.Store):
    """The store's 503s (a file missing or damaged, the store unreachable) as a refusal."""
    try:
        yield
    except storage.StoredFileDamaged as exc:
        [digest] = exc.errors["sha256"]
        raise BackupError(f"attachment {storage.relative_path(digest)} is missing or damaged "
                          f"in {store.describe()}: restore it from an earlier backup") from exc
    except storage.StoreUnavailable as exc:
        raise BackupError(f"the attachment store {store.describe()} cannot be reached "
                          "(the log says why)") from exc


def _save_files(digests: list[str], out: Path) -> dict:
    """Copy each named file out of the store into `out/attachments/`; {path: sha256}."""
    store = storage.attachment_store()
    files = {}
    with _store_errors(store):
        for digest in digests:
            relative = storage.relative_path(digest)
            files[relative] = _write_hashed(out / ATTACHMENTS / relative, store.read(digest))
    return files


# --- MariaDB tools ------------------------------------------------------------------------

def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{names[0]} is not installed (Debian: apt-get install mariadb-client)")


@contextmanager
def _client_options(url):
    """A private option file with the connection's credentials: a password on the command
    line would be readable by every user of the machine (ps)."""
    def quoted(value: str) -> str:   # else a "#" would start a comment
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["[client]"]
    if url.username:
        lines.append(f"user={quoted(url.username)}")
    if url.password:
        lines.append(f"password={quoted(url.password)}")
    socket = url.query.get("unix_socket")
    if socket:
        lines.append(f"socket={socket}")
    else:
        lines.append(f"host={url.host or '127.0.0.1'}")
        lines.append(f"port={url.port or 3306}")
        lines.append("protocol=tcp")
    lines.append("default-character-set=utf8mb4")
    fd, path = tempfile.mkstemp(prefix="coop-backup-", suffix=".cnf")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        yield path
    finally:
        os.unlink(path)


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, stderr=subprocess.PIPE, **kwargs)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {message}")


# --- create -------------------------------------------------------------------------------

def create_backup(out: Path) -> dict:
    """Write a backup of the app's database and attachment store into `out` (new or empty);
    returns the manifest."""
    engine = db.engine
    url = engine.url
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: give a new directory for each backup")
    out.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        database = _backup_sqlite(url, out / SQLITE_FILE)
        copy = create_engine(f"sqlite:///{out / SQLITE_FILE}")
        try:
            state = snapshot_of(copy)   # the copy itself: exactly what was saved
            digests = named_files(copy)
        finally:
            copy.dispose()
    elif engine.dialect.name in ("mysql", "mariadb"):
        database, state = _backup_mysql(engine, out / MYSQL_FILE)
        digests = named_files(engine)
    else:
        raise BackupError(f"cannot back up a {engine.dialect.name} database")
    files = _save_files(digests, out)
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "database": {"dialect": "sqlite" if engine.dialect.name == "sqlite" else "mysql",
                     **database},
        **state,
        "attachments": files,
        "key_check": key_check(),
    }
    _write_json_atomically(out / MANIFEST, manifest)
    return manifest


def _backup_sqlite(url, target: Path) -> dict:
    source = url.database
    if not source or source == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        # The online backup API copies a consistent image while others keep writing.
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return {"file": SQLITE_FILE, "sha256": sha256_of(target), "bytes": target.stat().st_size}


def _backup_mysql(engine: Engine, target: Path) -> tuple[dict, dict]:
    dump = _tool("mariadb-dump", "mysqldump")
    url = engine.url
    with engine.connect() as conn:
        binlog = bool(conn.execute(text("SELECT @@log_bin")).scalar())
    # With the binary log on, the dump notes (as a comment) the binlog position it is
    # consistent with: where a point-in-time recovery starts replaying (docs/operations.md).
    # Not exercised by CI, whose server runs without a binary log.
    position = ["--master-data=2"] if binlog else []
    for _ in range(DUMP_ATTEMPTS):
        before = snapshot_of(engine)
        with _client_options(url) as options, open(target, "wb") as fh:
            _run([dump, f"--defaults-extra-file={options}", "--single-transaction",
                  "--routines", "--triggers", "--events", "--hex-blob", "--no-tablespaces",
                  "--skip-dump-date", *position, url.database], stdout=fh)
            fh.flush()
            os.fsync(fh.fileno())
        if snapshot_of(engine) == before:
            return ({"file": MYSQL_FILE, "sha256": sha256_of(target),
                     "bytes": target.stat().st_size, "binlog_position": binlog}, before)
    target.unlink(missing_ok=True)
    raise BackupError(f"the database changed during each of {DUMP_ATTEMPTS} dumps; "
                      "run the backup at a quieter time")


# --- restore ------------------------------------------------------------------------------

def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} holds no {MANIFEST}: not a finished backup, "
                          "nothing restored")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def check_backup(folder: Path, manifest: dict) -> None:
    """Refuse, before anything is written, a backup this server could not use whole."""
    if manifest.get("key_check") != key_check():
        raise BackupError(
            "FIELD_ENCRYPTION_KEY is not the key this backup was made with: its ID-card and "
            "bank-account numbers could not be read. Set the key kept with the backups and "
            "run the restore again; nothing was written")
    database = manifest["database"]
    if sha256_of(folder / database["file"]) != database["sha256"]:
        raise BackupError(f"{database['file']} does not match its hash in the manifest "
                          "(damaged or changed); nothing was written")
    for relative, digest in manifest["attachments"].items():
        path = folder / ATTACHMENTS / relative
        if not path.is_file() or sha256_of(path) != digest:
            raise BackupError(f"attachment {relative} is missing or damaged; "
                              "nothing was written")


def restore_backup(folder: Path, force: bool = False) -> list[str]:
    """Restore `folder` into the app's database and attachment store; returns the
    differences between the restored database and the manifest (empty when whole)."""
    manifest = read_manifest(folder)
    check_backup(folder, manifest)
    engine = db.engine
    dialect = "sqlite" if engine.dialect.name == "sqlite" else "mysql"
    if manifest["database"]["dialect"] != dialect:
        raise BackupError(f"this backup is of a {manifest['database']['dialect']} database; "
                          f"DATABASE_URL names a {dialect} one")
    store = storage.attachment_store()
    with _store_errors(store):
        store_empty = store.is_empty()   # and so the store answers before anything is written
    if not force:
        if not is_empty(engine):
            raise BackupError("the target database is not empty; restore into an empty "
                              "database, or add --force to replace what it holds")
        if not store_empty:
            raise BackupError(f"the attachment store {store.describe()} is not empty; add "
                              "--force to replace it")
    db.session.remove()
    engine.dispose()   # no pooled connection may keep reading the old pages
    if dialect == "sqlite":
        _restore_sqlite(folder / manifest["database"]["file"], engine.url)
    else:
        _restore_mysql(folder / manifest["database"]["file"], engine)
    with _store_errors(store):
        for relative, digest in manifest["attachments"].items():
            # checked above; put() hashes what it stores, so a file changed since is caught
            if store.put((folder / ATTACHMENTS / relative).read_bytes()) != digest:
                raise BackupError(f"attachment {relative} changed during the restore")
    engine.dispose()
    return differences(manifest, snapshot_of(engine))


def _restore_sqlite(copy: Path, url) -> None:
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database")
    src = sqlite3.connect(copy)
    dst = sqlite3.connect(url.database)
    try:
        src.backup(dst)   # replaces every page of the target, in one transaction
    finally:
        dst.close()
        src.close()


def _restore_mysql(dump: Path, engine: Engine) -> None:
    client = _tool("mariadb", "mysql")
    with engine.begin() as conn:
        # A schema made by `flask db upgrade` (or --force): the dump recreates each table.
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name in conn.execute(text("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
                                 ).scalars().all():
            conn.execute(text(f"DROP TABLE `{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    with _client_options(engine.url) as options, open(dump, "rb") as fh:
        _run([client, f"--defaults-extra-file={options}", engine.url.database], stdin=fh)


# --- CLI ----------------------------------------------------------------------------------

@cli.cli.command("create")
@click.option("--out", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="A new (or empty) directory for this backup.")
@with_appcontext
def create_command(out: Path) -> None:
    """Back up the database and the attachment store into OUT, with a manifest."""
    manifest = create_backup(out)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    heads = manifest["audit_heads"] or {}
    click.echo(f"backup written to {out}: {len(manifest['tables'])} tables, {rows} rows, "
               f"{len(manifest['attachments'])} attachments, migration "
               f"{manifest['migration_head']}, audit chains {len(heads)} "
               f"({sum(h['seq'] for h in heads.values())} rows)")


@cli.cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a target database or attachment store that is not empty.")
@with_appcontext
def restore_command(folder: Path, force: bool) -> None:
    """Restore a backup made by `flask backup create` into DATABASE_URL (empty unless
    --force) and the attachment store, then compare what was restored with its manifest."""
    problems = restore_backup(folder, force=force)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        raise SystemExit(1)
    manifest = read_manifest(folder)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"restored {folder}: {rows} rows and {len(manifest['attachments'])} "
               f"attachments equal the manifest; now run `flask audit verify`")
