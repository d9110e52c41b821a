"""One `flask notify send` in a process of its own, for the race tests (test_sender.py).

Run as `python -m tests.notifications.sender_process <go-file>` with NOTIFY_TEST_DB and
NOTIFY_TEST_WECHAT in the environment. It builds the app, waits until the test creates
`<go-file>` (so that both processes start sending together, past their slow imports),
runs the sender once and prints its counts as JSON. Bounded: gives up after 60 s.
"""
from __future__ import annotations

import json
import os
import sys
import time

from coop import create_app
from coop.notifications.sender import send_due
from tests.conftest import TEST_CONFIG
from tests.notifications.conftest import TEMPLATES


def main(go_file: str) -> None:
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": os.environ["NOTIFY_TEST_DB"],
                      "WECHAT_API_BASE": os.environ["NOTIFY_TEST_WECHAT"],
                      "WECHAT_TEMPLATES": TEMPLATES, "WECHAT_TIMEOUT_SECONDS": 10.0})
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(go_file):
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.01)
    with app.app_context():
        counts = send_due()
    print(json.dumps(dict(counts)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
