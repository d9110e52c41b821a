"""Where uploaded files live: a small content-addressed store.

A file is stored once under its SHA-256 (`ab/cd/abcd…`) and never edited or deleted: the
same bytes uploaded twice are one file. The database row that names a file holds its
hash; reading checks the bytes against it, so a damaged or swapped file is an error
(503 `ATTACHMENT_DAMAGED`), not a silent download.

Two backends behind one small `Store` protocol, chosen by `ATTACHMENT_STORE` (config.py):
- `LocalStore` (`local`, the default) keeps files under `ATTACHMENT_DIR` (default
  `instance/attachments`), written to a temporary name, renamed into place, made read-only.
  One server's disk: fine for one app server, wrong for several.
- `S3Store` (`s3`) keeps them in an S3-compatible bucket (MinIO, OSS, COS, AWS) under
  `S3_PREFIX` + the same `ab/cd/abcd…` path, so that every app server sees every file.
  Its waits and retries are bounded; a store it cannot reach is 503
  `ATTACHMENT_STORE_UNAVAILABLE`, never a 500 (docs/operations.md, "File storage").

A file is written before the transaction that names it commits; if that transaction rolls
back, the file stays unnamed — harmless, since the next upload of the same bytes reuses it.
The backup copies the files the database names, through this interface (coop/backup.py).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from config import S3_SETTINGS, check_storage
from coop.errors import ServiceUnavailable

log = logging.getLogger("coop.storage")

DIGEST = re.compile(r"^[0-9a-f]{64}\Z")
# Bounded waits: a request blocked on a store that does not answer holds one of a few
# gunicorn workers. Connecting is quick or not at all; the read timeout is per socket
# read, not for a whole 20 MiB body.
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
# botocore's "standard" retries (throttling, 5xx, dropped connections) with backoff: the
# first try and two more. A store that accepts and never answers costs 3 × 10 s plus at
# most 3 s of backoff before the 503: inside gunicorn's 60 s worker timeout
# (gunicorn.conf.py), so the client gets the clean answer, not a killed worker.
MAX_ATTEMPTS = 3
# What a HEAD's error code means "no such object": its answer has no body, so a bare 404
# is all it says. A GET's says NoSuchKey; a bare 404 there is something that is not the
# store (a wrong endpoint, a proxy's page), so not a sign that the file is gone.
MISSING = {"NoSuchKey", "404", "NotFound"}
S3_STORE = "coop_s3_store"   # app.extensions: (the settings it was built from, the store)
_building = threading.Lock()


class Store(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; return its SHA-256 (hex). Storing the same bytes again is a no-op."""

    def read(self, digest: str) -> bytes:
        """The bytes stored under `digest`, checked against it."""

    def exists(self, digest: str) -> bool: ...

    def is_empty(self) -> bool:
        """No file stored at all (a restore refuses a store that holds some)."""

    def describe(self) -> str:
        """Where the files are, for an operator's message."""


class StoredFileDamaged(ServiceUnavailable):
    """A stored file is missing or its bytes no longer match their hash."""

    def __init__(self, digest: str):
        super().__init__("附件文件缺失或已损坏，请联系管理员从备份恢复", code="ATTACHMENT_DAMAGED",
                         errors={"sha256": [digest]})


class StoreUnavailable(ServiceUnavailable):
    """The file store could not be reached, or refused us (credentials, bucket)."""

    def __init__(self):
        super().__init__("附件存储暂时无法访问，请稍后再试", code="ATTACHMENT_STORE_UNAVAILABLE",
                         headers={"Retry-After": "30"})


def relative_path(digest: str) -> str:
    """`ab/cd/abcd…`: where a file lives inside a store (and inside a backup)."""
    if not DIGEST.match(digest):
        raise ValueError("not a sha256 hex digest")
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


def checked(digest: str, data: bytes) -> bytes:
    if hashlib.sha256(data).hexdigest() != digest:
        raise StoredFileDamaged(digest)
    return data


class LocalStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / relative_path(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def is_empty(self) -> bool:
        # hidden names are a writer's unfinished temporaries, not stored files
        return not self.root.is_dir() or not any(
            not any(part.startswith(".") for part in p.relative_to(self.root).parts)
            for p in self.root.rglob("*") if p.is_file())

    def describe(self) -> str:
        return str(self.root)

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(temporary, 0o444)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return digest

    def read(self, digest: str) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except OSError:
            raise StoredFileDamaged(digest) from None
        return checked(digest, data)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Objects `prefix + ab/cd/abcd…` in `bucket`. One client per store, built on first
    use (after gunicorn forks its workers) and shared by the process's threads (boto3
    clients are thread-safe; building one is not)."""

    def __init__(self, bucket: str, *, access_key_id: str, secret_access_key: str,
                 endpoint_url: str | None = None, region: str = "us-east-1",
                 prefix: str = "", addressing_style: str = "path"):
        self.bucket = bucket
        # "attachments", "/attachments/" → "attachments/": the key never starts with "/"
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._settings = {"endpoint_url": endpoint_url or None, "region_name": region,
                          "aws_access_key_id": access_key_id,
                          "aws_secret_access_key": secret_access_key}
        self.addressing_style = addressing_style
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config) -> "S3Store":
        return cls(config["S3_BUCKET"], access_key_id=config["S3_ACCESS_KEY_ID"],
                   secret_access_key=config["S3_SECRET_ACCESS_KEY"],
                   endpoint_url=config.get("S3_ENDPOINT_URL") or None,
                   region=config.get("S3_REGION") or "us-east-1",
                   prefix=config.get("S3_PREFIX") or "",
                   addressing_style=config.get("S3_ADDRESSING_STYLE") or "path")

    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3   # only a server configured for S3 pays for the import
                    from botocore.config import Config
                    self._client = boto3.session.Session().client("s3", config=Config(
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        read_timeout=READ_TIMEOUT_SECONDS,
                        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                        s3={"addressing_style": self.addressing_style},
                        # The CRC checksums botocore now adds by default are refused by
                        # several S3-compatible servers; the upload carries Content-MD5
                        # and every read is checked against its SHA-256 instead.
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required"), **self._settings)
        return self._client

    def key(self, digest: str) -> str:
        return self.prefix + relative_path(digest)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @contextmanager
    def _talking(self, action: str):
        """Any failure to talk to the store is one clean 503 (and a log line saying which)."""
        try:
            yield
        except (BotoCoreError, ClientError, OSError) as exc:
            log.error("attachment store %s: %s failed: %s", self.describe(), action, exc)
            raise StoreUnavailable() from exc

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise

    def exists(self, digest: str) -> bool:
        with self._talking("HEAD"):
            return self._head(self.key(digest)) is not None

    def is_empty(self) -> bool:
        with self._talking("LIST"):
            listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix,
                                                  MaxKeys=1)
        return not listing.get("KeyCount")

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = self.key(digest)
        with self._talking("PUT"):
            # Written once: a HEAD spares re-sending bytes already there, and the write
            # is conditional (If-None-Match: *) so two servers storing the same new file
            # at once leave the first one's object untouched (the other gets 412). An
            # object of the wrong size is damaged: the only bytes that belong under this
            # key are these, so it is replaced.
            head = self._head(key)
            if head is not None and head.get("ContentLength") == len(data):
                return digest
            condition = {"IfNoneMatch": "*"} if head is None else {}
            md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentMD5=md5,
                                       ContentType="application/octet-stream", **condition)
            except ClientError as exc:
                if _code(exc) != "PreconditionFailed":
                    raise
        return digest

    def read(self, digest: str) -> bytes:
        with self._talking("GET"):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.key(digest))
            except ClientError as exc:
                if _code(exc) == "NoSuchKey":
                    raise StoredFileDamaged(digest) from None
                raise
            with response["Body"] as body:
                data = body.read()
        return checked(digest, data)


def attachment_store() -> Store:
    """The app's store: an S3-compatible bucket (`ATTACHMENT_STORE=s3`), else the local
    directory `ATTACHMENT_DIR`, else `instance/attachments`."""
    config = current_app.config
    if (config.get("ATTACHMENT_STORE") or "local") == "s3":
        return _s3_store(current_app)
    configured = config.get("ATTACHMENT_DIR")
    return LocalStore(configured or Path(current_app.instance_path) / "attachments")


def _s3_store(app) -> S3Store:
    """One S3 store (so one client) per app, built again only if its settings change."""
    settings = tuple(app.config.get(name) or "" for name in S3_SETTINGS)
    cached = app.extensions.get(S3_STORE)
    if cached is None or cached[0] != settings:
        with _building:
            cached = app.extensions.get(S3_STORE)
            if cached is None or cached[0] != settings:
                check_storage(app.config)   # an app built with overrides skipped load_config's
                cached = (settings, S3Store.from_config(app.config))
                app.extensions[S3_STORE] = cached
    return cached[1]
