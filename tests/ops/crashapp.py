"""What a crash test serves and runs: the app of the test profile on CRASH_DATABASE_URL,
with a pause that only this file installs (production never imports it).

The test writes a spec to CRASH_ARM_FILE — {"token", "match", "nth", "when"} — and the
process that runs the nth SQL statement starting with `match` (before or after it runs)
removes the spec, writes its pid to the file's `.reached` twin and sleeps: the test then
kills it with SIGKILL at exactly that point of the transaction. Without a spec nothing
pauses, so the server that gunicorn starts in the dead worker's place runs normally.

    gunicorn tests.ops.crashapp:app                       the server
    python -m tests.ops.crashapp reports payouts …       the CLI; CRASH_REPORT_PAUSE_LINES
                                                          pauses the report writer instead
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from sqlalchemy import event

from coop.extensions import db
from tests.ops.databases import app_on

ARM = Path(os.environ["CRASH_ARM_FILE"])
REACHED = ARM.with_name(ARM.name + ".reached")
PAUSE_SECONDS = 120   # bounded: a test that failed to kill us does not leave us forever

app = app_on(os.environ["CRASH_DATABASE_URL"], DUMP_CROSSCHECK=False, LOG_LEVEL="ERROR",
             # a claim of a killed request may be taken over a second later (not 120 s)
             IDEMPOTENCY_LEASE_SECONDS=1)
_seen: dict[str, int] = {}


def pause_here() -> None:
    REACHED.write_text(str(os.getpid()))
    time.sleep(PAUSE_SECONDS)


def _maybe_pause(statement: str, when: str) -> None:
    try:
        spec = json.loads(ARM.read_text())
    except (FileNotFoundError, ValueError):
        return
    if spec["when"] != when or not statement.lstrip().upper().startswith(spec["match"]):
        return
    _seen[spec["token"]] = _seen.get(spec["token"], 0) + 1
    if _seen[spec["token"]] == spec["nth"]:
        ARM.unlink(missing_ok=True)
        pause_here()


def _before(conn, cursor, statement, parameters, context, executemany):
    _maybe_pause(statement, "before")


def _after(conn, cursor, statement, parameters, context, executemany):
    _maybe_pause(statement, "after")


with app.app_context():
    event.listen(db.engine, "before_cursor_execute", _before)
    event.listen(db.engine, "after_cursor_execute", _after)


def _pausing_report_writer(lines: int):
    """The report CLI's writer, paused after `lines` lines with what it wrote on disk."""
    import coop.reports.cli as reports_cli
    real = reports_cli.export

    def export(fmt, report, rows, fh, on_line):
        written = 0

        def line():
            nonlocal written
            on_line()
            written += 1
            if written == lines:
                fh.flush()
                pause_here()
        real(fmt, report, rows, fh, on_line=line)
    reports_cli.export = export


if __name__ == "__main__":
    from flask.cli import FlaskGroup
    if os.environ.get("CRASH_REPORT_PAUSE_LINES"):
        _pausing_report_writer(int(os.environ["CRASH_REPORT_PAUSE_LINES"]))
    FlaskGroup(create_app=lambda: app).main(args=sys.argv[1:], prog_name="flask")
