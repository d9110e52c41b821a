"""`flask reports payouts …`: the county's payout report as a file, for people and cron.

    flask --app wsgi reports payouts --county-id 1 --year 2024 --format xlsx --out /srv/reports

Prints the written path on stdout. A progress bar (stderr) appears only when stdout is
a terminal, so a cron job's mail stays empty on success. The file is written to a hidden
temporary file in the same directory, synced, then renamed over the final name, so a
reader never sees half a report. Exit codes a cron wrapper can act on:

    0  written                       3  no such county
    1  unexpected error (traceback)  4  could not write the file (disk, permissions)
    2  bad arguments (click usage)   5  the PDF needs a CJK font that is not installed
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

import click
from flask import Blueprint
from tqdm import tqdm
from xlsxwriter.exceptions import FileCreateError

import coop.clock as clock
from coop.extensions import db
from coop.places.models import County
from coop.reports.exporters import export
from coop.reports.figures import with_county_figures
from coop.reports.payouts_report import count_lines, report_rows, scope_of
from coop.reports.pdf_export import CJKFontMissing

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_ARGS = 0, 1, 2
EXIT_UNKNOWN_COUNTY, EXIT_WRITE_FAILED, EXIT_NO_FONT = 3, 4, 5

cli = Blueprint("reports_cli", __name__, cli_group="reports")


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `path` through a temporary file in the same directory and os.replace it in:
    the final name holds either the old file or the complete new one, never a part."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where supported
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def on_terminal() -> bool:
    """True when a person is watching (stdout is a TTY); False under cron or a pipe."""
    return sys.stdout.isatty()


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    raise SystemExit(code)


@cli.cli.command("payouts")
@click.option("--county-id", type=click.IntRange(1, 2**63 - 1), required=True,
              help="县 id")
@click.option("--year", type=click.IntRange(1990, 2100), required=True, help="年度")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf", "csv"]), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="输出目录（不存在则创建）")
def payouts_command(county_id: int, year: int, fmt: str, out_dir: Path) -> None:
    """Write the county's payout report (发放报表) for YEAR into OUT and print its path."""
    county = db.session.get(County, county_id)
    if county is None:
        _fail(f"县 id {county_id} 不存在", EXIT_UNKNOWN_COUNTY)
    report = scope_of(db.session, "county", county, year)
    if fmt == "xlsx":
        report = with_county_figures(db.session, report, clock.today())
    path = out_dir / f"{report.file_stem}.{fmt}"
    bar = tqdm(total=count_lines(db.session, report), unit="行", desc=path.name,
               disable=not on_terminal(), file=sys.stderr)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda fh: export(fmt, report, report_rows(db.session, report),
                                                 fh, on_line=bar.update))
    except CJKFontMissing as exc:
        _fail(str(exc), EXIT_NO_FONT)
    except (OSError, FileCreateError) as exc:
        _fail(f"写入 {path} 失败：{exc}", EXIT_WRITE_FAILED)
    finally:
        bar.close()
        db.session.rollback()
    click.echo(str(path))
