"""`flask backup create/restore` with the attachment store in an S3-compatible bucket
(a local moto_server the tests start): the files the database names are copied out of the
bucket into the backup and back into another bucket, under the manifest's hashes; a
backup of a local store restores into a bucket (how a county moves to several app
servers); a bucket that is down or holds a damaged file is a refusal, not a half backup.
SQLite and MariaDB alike."""
from __future__ import annotations

import hashlib

import flask_migrate
import pytest
from sqlalchemy import inspect, select

import coop.backup as backup
import coop.storage as storage
from coop.attachments import services as attachments
from coop.attachments.models import Attachment
from coop.extensions import db
from coop.transaction import unit_of_work
from tests.factories import Factory
from tests.ops.databases import app_on, backup_of, dispose, fresh_database
from tests.s3server import S3Server, running_s3

MINUTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 \
    + b"\xff\xd9"
FILES = {hashlib.sha256(data).hexdigest(): data for data in (MINUTES, PHOTO)}
PATHS = {storage.relative_path(digest): digest for digest in FILES}


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def seed(app) -> None:
    """A cooperative with its assembly's minutes (twice: one file) and the notice's photo."""
    with app.app_context():
        flask_migrate.upgrade()
        make = Factory(db.session)
        coop = make.cooperative()
        manager, _ = make.login("coop_manager", coop)
        with unit_of_work(db.session):
            for name, data in (("会议记录.pdf", MINUTES), ("会议记录副本.pdf", MINUTES),
                               ("公示照片.jpg", PHOTO)):
                attachments.add(db.session, manager, "cooperative", coop, "other", name, data)
        db.session.remove()


def stored_digests(app) -> list[str]:
    with app.app_context():
        digests = sorted(db.session.scalars(select(Attachment.sha256).distinct()))
        db.session.remove()
    return digests


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with running_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="module")
def made(app, s3, tmp_path_factory):
    """A source server whose files are in a bucket, and its backup."""
    folder = tmp_path_factory.mktemp("s3-backup")
    bucket = s3.new_bucket()
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], folder, "s3_src") as url:
        source = app_on(url, **s3.config(bucket, "county-371722"))
        seed(source)
        manifest = backup_of(source, folder / "backup-1")
        dispose(source)
        yield folder / "backup-1", manifest


@pytest.fixture
def target(app, tmp_path):
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, "s3_dst") as url:
        yield url


def test_the_backup_holds_every_file_the_database_names_with_its_hash(made):
    out, manifest = made
    assert manifest["attachments"] == PATHS
    for relative, digest in manifest["attachments"].items():
        assert hashlib.sha256((out / backup.ATTACHMENTS / relative).read_bytes()
                              ).hexdigest() == digest


def test_a_backup_restores_into_another_bucket_and_is_read_from_there(made, target, s3):
    out, manifest = made
    bucket = s3.new_bucket()
    restored = app_on(target, **s3.config(bucket, "restored"))
    result = cli(restored, "backup", "restore", str(out))
    assert result.exit_code == 0, result.output
    assert "2 attachments equal the manifest" in result.output
    verified = cli(restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    listed = s3.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"restored/{p}" for p in PATHS)
    with restored.app_context():
        store = storage.attachment_store()
        assert isinstance(store, storage.S3Store)
        for digest in stored_digests(restored):
            assert store.read(digest) == FILES[digest]
    # restored again on purpose: the same objects under the same keys, nothing else
    again = cli(restored, "backup", "restore", "--force", str(out))
    assert again.exit_code == 0, again.output
    assert len(s3.client().list_objects_v2(Bucket=bucket)["Contents"]) == len(PATHS)
    dispose(restored)


def test_a_backup_of_a_local_store_restores_into_a_bucket(app, s3, tmp_path, target):
    """Moving a county from one server's disk to a bucket: back up, restore with s3."""
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, "s3_local") as url:
        local = app_on(url, ATTACHMENT_STORE="local", ATTACHMENT_DIR=str(tmp_path / "files"))
        seed(local)
        out = tmp_path / "backup-local"
        backup_of(local, out)
        dispose(local)
    bucket = s3.new_bucket()
    restored = app_on(target, **s3.config(bucket))
    result = cli(restored, "backup", "restore", str(out))
    assert result.exit_code == 0, result.output
    with restored.app_context():
        store = storage.attachment_store()
        assert {d: store.read(d) for d in stored_digests(restored)} == FILES
    dispose(restored)


def test_a_bucket_that_is_not_empty_is_refused_before_anything_is_written(made, target, s3):
    out, _ = made
    bucket = s3.new_bucket()
    s3.client().put_object(Bucket=bucket, Key="elsewhere/ab/cd/abcd", Body=b"x")
    restored = app_on(target, **s3.config(bucket, "elsewhere"))
    result = cli(restored, "backup", "restore", str(out))
    assert result.exit_code == 1 and "is not empty" in result.output
    assert f"s3://{bucket}/elsewhere/" in result.output
    with restored.app_context():
        assert inspect(db.engine).get_table_names() == []
    dispose(restored)


def test_a_bucket_that_is_down_is_refused_before_anything_is_written(made, target, tmp_path):
    out, _ = made
    server = S3Server(tmp_path / "moto_server.log")
    server.start()
    bucket = server.new_bucket()
    server.stop()
    restored = app_on(target, **server.config(bucket))
    result = cli(restored, "backup", "restore", str(out))
    assert result.exit_code == 1 and "cannot be reached" in result.output, result.output
    with restored.app_context():
        assert inspect(db.engine).get_table_names() == []
    dispose(restored)


def test_a_damaged_or_unreachable_file_fails_the_backup_and_leaves_no_manifest(
        app, s3, tmp_path):
    bucket = s3.new_bucket()
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, "s3_bad") as url:
        source = app_on(url, **s3.config(bucket))
        seed(source)
        digest = hashlib.sha256(PHOTO).hexdigest()
        s3.client().put_object(Bucket=bucket, Key=storage.relative_path(digest),
                               Body=PHOTO[:-1] + b"\x00")
        result = cli(source, "backup", "create", "--out", str(tmp_path / "b1"))
        assert result.exit_code == 1, result.output
        assert f"attachment {storage.relative_path(digest)} is missing or damaged" \
            in result.output
        assert not (tmp_path / "b1" / backup.MANIFEST).exists()
        dispose(source)
        down = app_on(url, **{**s3.config(bucket), "S3_ENDPOINT_URL": "http://127.0.0.1:9"})
        result = cli(down, "backup", "create", "--out", str(tmp_path / "b2"))
        assert result.exit_code == 1 and "cannot be reached" in result.output, result.output
        assert not (tmp_path / "b2" / backup.MANIFEST).exists()
        dispose(down)
