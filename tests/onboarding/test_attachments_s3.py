"""Attachments in an S3-compatible bucket (ATTACHMENT_STORE=s3), against a local moto_server
the tests start: the same guarantees as the local store (stored once under its SHA-256,
never overwritten, checked on every read), every failure to reach the bucket a clean 503
in bounded time, and the attachments API end to end on an app configured for it."""
from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

import coop.storage as storage
from coop import create_app
from coop.attachments.models import Attachment
from config import ConfigError, load_config
from tests.conftest import TEST_CONFIG, IsolatedClient
from tests.ops.databases import dispose
from tests.s3server import S3Server, running_s3

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 \
    + b"\xff\xd9"
# How long a store that is down may keep a request waiting before its 503.
BOUNDED_SECONDS = 10


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with running_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def bucket(s3):
    return s3.new_bucket()


def store_in(s3: S3Server, bucket: str, prefix: str = "attachments") -> storage.S3Store:
    return storage.S3Store.from_config(s3.config(bucket, prefix))


def keys(s3: S3Server, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def puts_sent(store: storage.S3Store) -> list[dict]:
    """The PutObject calls the store's client makes from now on."""
    sent = []
    store.client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: sent.append(params["headers"]))
    return sent


# --- configuration ------------------------------------------------------------------------

def test_the_s3_store_is_read_from_the_environment(s3):
    cfg = load_config({**s3.config("coop-files", "county-371722"), "S3_REGION": ""})
    assert (cfg["ATTACHMENT_STORE"], cfg["S3_BUCKET"], cfg["S3_PREFIX"], cfg["S3_REGION"]) \
        == ("s3", "coop-files", "county-371722", "us-east-1")
    assert load_config({})["ATTACHMENT_STORE"] == "local"


@pytest.mark.parametrize("change, named", [
    ({"S3_BUCKET": ""}, "S3_BUCKET"),
    ({"S3_ACCESS_KEY_ID": "", "S3_SECRET_ACCESS_KEY": ""},
     "S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY"),
    ({"S3_ENDPOINT_URL": "minio.county.local:9000"}, "S3_ENDPOINT_URL"),
    ({"ATTACHMENT_STORE": "nfs"}, "ATTACHMENT_STORE"),
    ({"S3_ADDRESSING_STYLE": "host"}, "S3_ADDRESSING_STYLE"),
])
def test_a_misconfigured_store_is_refused_at_startup(s3, monkeypatch, change, named):
    env = {**s3.config("coop-files"), **change}
    with pytest.raises(ConfigError, match=named):
        load_config(env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        create_app(TEST_CONFIG)


@pytest.mark.parametrize("style, url", [
    ("", "https://oss-cn-qingdao.aliyuncs.com/coop-files/county/ab/cd/"),
    ("path", "https://oss-cn-qingdao.aliyuncs.com/coop-files/county/ab/cd/"),
    # Aliyun OSS refuses the path style: the bucket must be in the host name.
    ("virtual", "https://coop-files.oss-cn-qingdao.aliyuncs.com/county/ab/cd/"),
])
def test_the_addressing_style_puts_the_bucket_where_the_store_expects_it(style, url):
    cfg = load_config({"ATTACHMENT_STORE": "s3", "S3_BUCKET": "coop-files",
                       "S3_PREFIX": "county", "S3_ACCESS_KEY_ID": "k",
                       "S3_SECRET_ACCESS_KEY": "s", "S3_REGION": "oss-cn-qingdao",
                       "S3_ENDPOINT_URL": "https://oss-cn-qingdao.aliyuncs.com",
                       "S3_ADDRESSING_STYLE": style})
    store = storage.S3Store.from_config(cfg)
    digest = "abcd" + "0" * 60
    signed = store.client.generate_presigned_url(
        "get_object", Params={"Bucket": store.bucket, "Key": store.key(digest)})
    assert signed.startswith(url + digest + "?"), signed


# --- the store ----------------------------------------------------------------------------

def test_a_file_is_stored_once_under_its_hash_and_read_back_checked(s3, bucket):
    store = store_in(s3, bucket, prefix="/county-371722/")
    digest = hashlib.sha256(PDF).hexdigest()
    assert store.is_empty() and not store.exists(digest)
    assert store.put(PDF) == digest
    assert keys(s3, bucket) == [f"county-371722/{digest[:2]}/{digest[2:4]}/{digest}"]
    assert store.exists(digest) and not store.is_empty()
    assert store.read(digest) == PDF
    # the same bytes again: nothing is sent, still one object
    sent = puts_sent(store)
    assert store.put(PDF) == digest
    assert sent == [] and len(keys(s3, bucket)) == 1
    # a second file beside it
    assert store.put(JPEG) == hashlib.sha256(JPEG).hexdigest()
    assert len(keys(s3, bucket)) == 2


def test_a_new_file_is_written_only_if_absent(s3, bucket, monkeypatch):
    """Two servers storing the same new file at once: the second write is conditional and
    leaves the first one's object as it is."""
    store = store_in(s3, bucket)
    digest = hashlib.sha256(PDF).hexdigest()
    s3.client().put_object(Bucket=bucket, Key=store.key(digest), Body=b"first writer")
    monkeypatch.setattr(store, "_head", lambda key: None)   # it was not there at our HEAD
    sent = puts_sent(store)
    assert store.put(PDF) == digest
    assert [h.get("If-None-Match") for h in sent] == ["*"]
    body = s3.client().get_object(Bucket=bucket, Key=store.key(digest))["Body"].read()
    assert body == b"first writer"


def test_an_object_of_the_wrong_size_is_replaced_by_the_right_bytes(s3, bucket):
    store = store_in(s3, bucket)
    digest = hashlib.sha256(PDF).hexdigest()
    s3.client().put_object(Bucket=bucket, Key=store.key(digest), Body=PDF[:10])
    with pytest.raises(storage.StoredFileDamaged):
        store.read(digest)
    assert store.put(PDF) == digest
    assert store.read(digest) == PDF


def test_a_changed_or_deleted_object_is_damaged_not_a_silent_download(s3, bucket):
    store = store_in(s3, bucket)
    digest = store.put(PDF)
    tampered = PDF.replace(b"1.4", b"1.7")      # same size: only the hash tells
    s3.client().put_object(Bucket=bucket, Key=store.key(digest), Body=tampered)
    with pytest.raises(storage.StoredFileDamaged) as damaged:
        store.read(digest)
    assert (damaged.value.status, damaged.value.code) == (503, "ATTACHMENT_DAMAGED")
    s3.client().delete_object(Bucket=bucket, Key=store.key(digest))
    assert not store.exists(digest)
    with pytest.raises(storage.StoredFileDamaged):
        store.read(digest)


def test_a_missing_bucket_is_unavailable_not_a_crash(s3):
    store = store_in(s3, "no-such-bucket")
    # (a HEAD's 404 has no body to say whether the object or the bucket is missing, so
    # `exists` answers False; the upload that follows it is refused)
    for attempt in (lambda: store.put(PDF), lambda: store.read("a" * 64), store.is_empty):
        with pytest.raises(storage.StoreUnavailable) as down:
            attempt()
        assert (down.value.status, down.value.code) == (503, "ATTACHMENT_STORE_UNAVAILABLE")


def test_a_404_from_something_that_is_not_the_store_is_unavailable_not_damaged():
    """A wrong endpoint (a web server, a proxy) answers GET with a bare 404: that says
    nothing about the file, and an operator must not be sent to restore it from backup."""
    class NotS3(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store = storage.S3Store("coop-files", access_key_id="k", secret_access_key="s",
                                endpoint_url=f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(storage.StoreUnavailable):
            store.read("a" * 64)
    finally:
        server.shutdown()
        server.server_close()


def test_a_store_that_never_answers_gives_up_in_bounded_time(monkeypatch):
    """Connected but silent (a hung server): each read waits READ_TIMEOUT_SECONDS, and the
    retries are bounded, so the request ends in a 503 rather than holding its worker."""
    monkeypatch.setattr(storage, "READ_TIMEOUT_SECONDS", 0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])   # kept open, never answered
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        store = storage.S3Store("coop-files", access_key_id="k", secret_access_key="s",
                                endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(storage.StoreUnavailable):
            store.read("a" * 64)
        assert time.monotonic() - started < BOUNDED_SECONDS
        assert len(accepted) == storage.MAX_ATTEMPTS   # tried, and retried, a bounded number
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        silent.close()


# --- the API, on an app configured for S3 -------------------------------------------------

@pytest.fixture
def s3_app(app, s3, bucket, monkeypatch):
    """Another app server on the suite's database whose environment says ATTACHMENT_STORE=s3."""
    for name, value in s3.config(bucket, "county-files").items():
        monkeypatch.setenv(name, value)
    other = create_app({**TEST_CONFIG,
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    other.test_client_class = IsolatedClient
    yield other
    dispose(other)


def post(client, headers, data, filename, object_id):
    form = {"file": (io.BytesIO(data), filename), "object_type": "cooperative",
            "object_id": str(object_id), "kind": "assembly_minutes"}
    return client.post("/api/v1/attachments", headers=headers, data=form,
                       content_type="multipart/form-data")


def test_an_upload_lands_in_the_bucket_and_every_app_server_reads_it(app, s3_app, s3, bucket,
                                                                     db, world):
    client = s3_app.test_client()
    resp = post(client, world.manager, PDF, "成员大会会议记录.pdf", world.coop.id)
    assert resp.status_code == 201, resp.json
    digest = hashlib.sha256(PDF).hexdigest()
    assert resp.json["sha256"] == digest
    assert keys(s3, bucket) == [f"county-files/{digest[:2]}/{digest[2:4]}/{digest}"]
    # not on this server's disk
    assert not (storage.LocalStore(app.config["ATTACHMENT_DIR"]).exists(digest))
    got = client.get(f"/api/v1/attachments/{resp.json['id']}/content", headers=world.reviewer)
    assert got.status_code == 200 and got.data == PDF
    # a third "server" with the same environment reads the same file
    third = create_app({**TEST_CONFIG,
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    third.test_client_class = IsolatedClient
    again = third.test_client().get(f"/api/v1/attachments/{resp.json['id']}/content",
                                    headers=world.manager)
    assert again.status_code == 200 and again.data == PDF
    dispose(third)
    # one store, so one client, per app (process)
    with s3_app.app_context():
        first = storage.attachment_store()
        assert storage.attachment_store() is first and first.client is first.client


def test_a_tampered_object_is_503_attachment_damaged(s3_app, s3, bucket, db, world):
    client = s3_app.test_client()
    body = post(client, world.manager, PDF, "a.pdf", world.coop.id).json
    key = f"county-files/{body['sha256'][:2]}/{body['sha256'][2:4]}/{body['sha256']}"
    s3.client().put_object(Bucket=bucket, Key=key, Body=b"%PDF-tampered")
    got = client.get(f"/api/v1/attachments/{body['id']}/content", headers=world.manager)
    assert got.status_code == 503 and got.json["code"] == "ATTACHMENT_DAMAGED"


def test_a_store_that_is_down_is_a_clean_503_and_nothing_is_recorded(app, db, world,
                                                                      tmp_path, monkeypatch):
    server = S3Server(tmp_path / "moto_server.log")
    server.start()
    try:
        bucket = server.new_bucket()
        for name, value in server.config(bucket).items():
            monkeypatch.setenv(name, value)
        down_app = create_app({**TEST_CONFIG,
                               "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
        down_app.test_client_class = IsolatedClient
        client = down_app.test_client()
        stored = post(client, world.manager, PDF, "a.pdf", world.coop.id)
        assert stored.status_code == 201
    finally:
        server.stop()
    started = time.monotonic()
    got = client.get(f"/api/v1/attachments/{stored.json['id']}/content", headers=world.manager)
    assert got.status_code == 503, got.json
    assert got.json["code"] == "ATTACHMENT_STORE_UNAVAILABLE"
    assert got.json["detail"] == "附件存储暂时无法访问，请稍后再试"
    assert got.headers["Retry-After"] == "30"
    refused = post(client, world.manager, JPEG, "b.jpg", world.coop.id)
    assert refused.status_code == 503 and refused.json["code"] == "ATTACHMENT_STORE_UNAVAILABLE"
    assert time.monotonic() - started < 2 * BOUNDED_SECONDS
    # the refused upload left no row naming a file that is not there
    assert [a.sha256 for a in db.session.scalars(select(Attachment))] == [
        hashlib.sha256(PDF).hexdigest()]
    dispose(down_app)
