"""The restore drill (docs/operations.md, "Backups"): a county holding every kind of money
object is backed up, restored into an empty database on another "server" (another app,
another attachment store), and comes back whole: the audit chain verifies and every row
count and money total equals the manifest's. Runs on SQLite and on MariaDB."""
from __future__ import annotations

import hashlib
import json

import flask_migrate
import pytest
from sqlalchemy import inspect, select

import coop.backup as backup
from coop.attachments.models import Attachment
from coop.storage import attachment_store
from coop.extensions import db
from tests.conftest import TEST_CONFIG
from tests.ops.databases import app_on, dispose, fresh_database
from tests.ops.seeding import MINUTES, MONEY_TABLES, seed_money_county

MINUTES_SHA = hashlib.sha256(MINUTES).hexdigest()
MINUTES_PATH = f"{MINUTES_SHA[:2]}/{MINUTES_SHA[2:4]}/{MINUTES_SHA}"


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture(scope="module")
def made(app, tmp_path_factory):
    """One seeded source database and its backup, shared by the module's tests."""
    folder = tmp_path_factory.mktemp("drill")
    store = folder / "source-attachments"
    # what a writer killed mid-upload leaves: a hidden temporary, not part of the store
    (store / "00").mkdir(parents=True)
    (store / "00" / ".incoming-x1y2").write_bytes(b"half")
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], folder, "bk_src") as url:
        source = app_on(url, ATTACHMENT_DIR=str(store))
        with source.app_context():
            flask_migrate.upgrade()
            seed_money_county(source.test_client())
            db.session.remove()
        out = folder / "backup-1"
        result = cli(source, "backup", "create", "--out", str(out))
        assert result.exit_code == 0, result.output
        dispose(source)
        yield out, json.loads((out / backup.MANIFEST).read_text(encoding="utf-8"))


@pytest.fixture
def target(app, tmp_path):
    """An empty database and attachment store on "another server"."""
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, "bk_dst") as url:
        yield url, tmp_path / "target-attachments"


def test_the_manifest_names_every_money_total_and_the_files(made):
    _, manifest = made
    for table in MONEY_TABLES:
        assert manifest["tables"][table]["rows"] > 0, table
    assert manifest["tables"]["share_balances"]["fen"]["total_fen"] == 3_000_000 + 4 * 1_400_000 + 200_000
    assert manifest["tables"]["programs"]["fen"]["disbursed_fen"] > 0
    assert manifest["migration_head"] and manifest["audit_heads"]["system"]["seq"] > 0
    # Every chain's head is in the index, the root's openings name each of the others.
    assert len(manifest["audit_heads"]) > 1
    assert manifest["attachments"] == {MINUTES_PATH: MINUTES_SHA}


def test_restore_into_an_empty_database_gives_back_every_row_and_total(made, target):
    out, manifest = made
    url, store = target
    restored = app_on(url, ATTACHMENT_DIR=str(store))
    result = cli(restored, "backup", "restore", str(out))
    assert result.exit_code == 0, result.output
    verified = cli(restored, "audit", "verify")
    assert verified.exit_code == 0 and "audit chain ok" in verified.output, verified.output
    with restored.app_context():
        found = backup.snapshot(db.session.connection())
        db.session.remove()
    assert found == {key: manifest[key] for key in ("migration_head", "audit_heads", "tables")}
    assert (store / MINUTES_PATH).read_bytes() == MINUTES
    # the restored server reads the file of its attachment row (checked against the hash)
    with restored.app_context():
        [digest] = db.session.scalars(select(Attachment.sha256)).all()
        assert attachment_store().read(digest) == MINUTES
        db.session.remove()
    # A second restore onto what is now a full database is refused; --force replaces it.
    again = cli(restored, "backup", "restore", str(out))
    assert again.exit_code == 1 and "not empty" in again.output
    forced = cli(restored, "backup", "restore", "--force", str(out))
    assert forced.exit_code == 0, forced.output
    dispose(restored)


def test_encrypted_numbers_read_back_on_the_restored_server(made, target):
    """The bank file is where full account numbers appear: it decrypts on the new server."""
    out, _ = made
    url, store = target
    restored = app_on(url, ATTACHMENT_DIR=str(store))
    assert cli(restored, "backup", "restore", str(out)).exit_code == 0
    from coop.crypto import decrypt
    from coop.registry.models import Member
    with restored.app_context():
        numbers = [decrypt(m.bank_account_enc) for m in db.session.query(Member)
                   if m.bank_account_enc]
        assert numbers and all(n.isdigit() for n in numbers)
        db.session.remove()
    dispose(restored)


def test_a_wrong_encryption_key_is_refused_before_anything_is_written(made, target):
    out, _ = made
    url, store = target
    other = app_on(url, ATTACHMENT_DIR=str(store),
                   FIELD_ENCRYPTION_KEY="another-servers-key-that-is-long-enough-0000")
    assert other.config["FIELD_ENCRYPTION_KEY"] != TEST_CONFIG["FIELD_ENCRYPTION_KEY"]
    result = cli(other, "backup", "restore", "--force", str(out))
    assert result.exit_code == 1
    assert "FIELD_ENCRYPTION_KEY is not the key this backup was made with" in result.output
    assert "nothing was written" in result.output
    with other.app_context():
        assert inspect(db.engine).get_table_names() == []
    assert not store.exists()
    dispose(other)


def test_a_damaged_or_unfinished_backup_is_refused(made, target, tmp_path):
    out, manifest = made
    url, store = target
    restored = app_on(url, ATTACHMENT_DIR=str(store))
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for path in out.rglob("*"):
        if path.is_file():
            copy = damaged / path.relative_to(out)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    database = damaged / manifest["database"]["file"]
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database.write_bytes(bytes(data))
    result = cli(restored, "backup", "restore", str(damaged))
    assert result.exit_code == 1 and "does not match its hash" in result.output
    (damaged / backup.MANIFEST).unlink()
    result = cli(restored, "backup", "restore", str(damaged))
    assert result.exit_code == 1 and "not a finished backup" in result.output
    with restored.app_context():
        assert inspect(db.engine).get_table_names() == []
    dispose(restored)


def test_a_backup_never_writes_into_a_directory_already_holding_files(made, app):
    out, _ = made
    with app.app_context():
        result = cli(app, "backup", "create", "--out", str(out))
    assert result.exit_code == 1 and "is not empty" in result.output
