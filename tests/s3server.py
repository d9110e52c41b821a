"""A local S3-compatible server for the tests of the S3 attachment store: `moto_server`
from the venv (moto[server] is a dev dependency, requirements-dev.txt), on a free loopback
port, started and stopped by the tests themselves. Missing or not answering → the test
fails; it is never skipped."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import boto3
import requests

ACCESS_KEY_ID = "coop-test-key"
SECRET_ACCESS_KEY = "coop-test-secret"
REGION = "us-east-1"
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    def __init__(self, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        executable = Path(sys.executable).with_name("moto_server")
        assert executable.exists(), f"{executable} missing: run `make dev-deps`"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(executable), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"moto_server exited: {self.log.read_text()}"
            try:
                requests.get(self.url, timeout=5)
                return
            except requests.RequestException:
                # Refused (not listening yet) or slow: moto's first answer imports its
                # services, which on a cold CI machine took longer than a second.
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"moto_server did not answer within {START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def client(self):
        """A client of our own, behind the store's back."""
        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY)

    def new_bucket(self) -> str:
        bucket = f"coop-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def config(self, bucket: str, prefix: str = "") -> dict:
        """The app config of a store in `bucket`, as config.py reads it from the environment."""
        return {"ATTACHMENT_STORE": "s3", "S3_ENDPOINT_URL": self.url, "S3_BUCKET": bucket,
                "S3_REGION": REGION, "S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY, "S3_PREFIX": prefix}


@contextmanager
def running_s3(folder: Path):
    server = S3Server(folder / "moto_server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
