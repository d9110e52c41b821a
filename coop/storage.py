"""Where uploaded files live: a small content-addressed store.

A file is stored once under its SHA-256 (`ab/cd/abcd…`), written to a temporary name and
renamed into place, then made read-only: a stored file is never edited or deleted, and
the same bytes uploaded twice are one file. The database row that names a file holds its
hash; reading checks the bytes against it, so a damaged or swapped file is an error, not
a silent download.

`LocalStore` keeps files under `ATTACHMENT_DIR` (default `instance/attachments`; the
backup copies that tree, coop/backup.py). It is the only backend; anything with
`put`/`read`/`exists` (an S3-compatible bucket, say) could stand in for it.

A file is written before the transaction that names it commits; if that transaction rolls
back, the file stays unnamed — harmless, since the next upload of the same bytes reuses it.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

from coop.errors import ServiceUnavailable

DIGEST = re.compile(r"^[0-9a-f]{64}\Z")


class Store(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; return its SHA-256 (hex). Storing the same bytes again is a no-op."""

    def read(self, digest: str) -> bytes:
        """The bytes stored under `digest`, checked against it."""

    def exists(self, digest: str) -> bool: ...


class StoredFileDamaged(ServiceUnavailable):
    """A stored file is missing or its bytes no longer match their hash."""

    def __init__(self, digest: str):
        super().__init__("附件文件缺失或已损坏，请联系管理员从备份恢复", code="ATTACHMENT_DAMAGED",
                         errors={"sha256": [digest]})


class LocalStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise ValueError("not a sha256 hex digest")
        return self.root / digest[:2] / digest[2:4] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

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
        if hashlib.sha256(data).hexdigest() != digest:
            raise StoredFileDamaged(digest)
        return data


def attachment_store() -> Store:
    """The app's store: `ATTACHMENT_DIR`, else `instance/attachments`."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    return LocalStore(configured or Path(current_app.instance_path) / "attachments")
