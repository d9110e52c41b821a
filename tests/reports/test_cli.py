"""`flask reports payouts`: the written path, atomic writes, exit codes for cron."""
from __future__ import annotations

import csv
import os

import openpyxl

from coop.money import parse_yuan
from coop.reports import cli as reports_cli
from tests.reports.builders import YEAR, db_line_sum


def _run(runner, *args):
    return runner.invoke(args=["reports", "payouts", *args])


def _args(world, fmt, out):
    return ["--county-id", str(world.county.id), "--year", str(YEAR), "--format", fmt,
            "--out", str(out)]


def test_writes_the_xlsx_prints_its_path_and_leaves_no_temporary_file(runner, db, world,
                                                                      tmp_path):
    out = tmp_path / "reports" / "monthly"          # created when missing
    result = _run(runner, *_args(world, "xlsx", out))
    assert result.exit_code == 0, result.output
    path = result.stdout.strip()
    assert path == str(out / f"payouts-{world.county.code}-county-{world.county.id}-{YEAR}.xlsx")
    assert [p.name for p in out.iterdir()] == [path.rsplit("/", 1)[1]]
    sheet = openpyxl.load_workbook(path)["发放明细"]
    header = [c.value for c in sheet[1]]
    amount = header.index("金额（元）")
    total_row = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "合计"]
    assert parse_yuan(str(total_row[0][amount])) == db_line_sum(
        db.session, county_id=world.county.id, year=YEAR)[1]


def test_csv_and_pdf_are_written_too(runner, world, tmp_path):
    for fmt, magic in (("csv", b"\xef\xbb\xbf"), ("pdf", b"%PDF")):
        result = _run(runner, *_args(world, fmt, tmp_path))
        assert result.exit_code == 0, result.output
        path = result.stdout.strip()
        assert path.endswith(f".{fmt}")
        with open(path, "rb") as fh:
            assert fh.read(len(magic)) == magic
    with open(next(tmp_path.glob("*.csv")), encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh))[0] == "类别"


def test_quiet_when_not_on_a_terminal(runner, world, tmp_path):
    result = _run(runner, *_args(world, "csv", tmp_path))
    assert result.exit_code == 0
    assert result.stderr == ""           # no progress bar under cron
    assert result.stdout.count("\n") == 1


def test_progress_bar_only_when_stdout_is_a_terminal(runner, world, tmp_path, monkeypatch):
    seen = {}

    class Bar:
        def __init__(self, **kw):
            seen.update(kw)
            self.updates = 0

        def update(self, n=1):
            self.updates += n

        def close(self):
            seen["updates"] = self.updates

    monkeypatch.setattr(reports_cli, "tqdm", Bar)
    monkeypatch.setattr(reports_cli, "on_terminal", lambda: True)
    result = _run(runner, *_args(world, "csv", tmp_path))
    assert result.exit_code == 0, result.output
    assert seen["disable"] is False
    assert seen["total"] == seen["updates"] == 13


def test_unknown_county_exits_3(runner, db, tmp_path):
    result = _run(runner, "--county-id", "999999", "--year", str(YEAR), "--format", "csv",
                  "--out", str(tmp_path))
    assert result.exit_code == reports_cli.EXIT_UNKNOWN_COUNTY == 3
    assert "999999" in result.stderr and result.stdout == ""


def test_bad_arguments_exit_2(runner, world, tmp_path):
    for bad in (["--format", "docx"], ["--year", "1800"], ["--county-id", "x"]):
        args = _args(world, "csv", tmp_path)
        args[args.index(bad[0]) + 1] = bad[1]
        assert _run(runner, *args).exit_code == reports_cli.EXIT_BAD_ARGS == 2, bad
    assert _run(runner, "--year", str(YEAR)).exit_code == 2


def test_unwritable_destination_exits_4(runner, world, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = _run(runner, *_args(world, "csv", blocker / "sub"))
    assert result.exit_code == reports_cli.EXIT_WRITE_FAILED == 4
    assert "失败" in result.stderr


def test_a_failed_write_keeps_the_previous_file_and_removes_the_partial_one(
        runner, world, tmp_path, monkeypatch):
    first = _run(runner, *_args(world, "csv", tmp_path))
    path = first.stdout.strip()
    before = open(path, "rb").read()

    def broken_export(fmt, report, rows, fh, on_line=None):
        fh.write(b"half a report")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reports_cli, "export", broken_export)
    result = _run(runner, *_args(world, "csv", tmp_path))
    assert result.exit_code == 4
    assert open(path, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.rsplit("/", 1)[1]]


def test_missing_cjk_font_exits_5(runner, app, world, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_PDF_FONT", str(tmp_path / "none.ttc"))
    result = _run(runner, *_args(world, "pdf", tmp_path))
    assert result.exit_code == reports_cli.EXIT_NO_FONT == 5
    assert "REPORTS_PDF_FONT" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_write_atomically_never_exposes_a_partial_file(tmp_path):
    target = tmp_path / "r.csv"
    target.write_bytes(b"old")
    seen_during_write = []

    def write(fh):
        fh.write(b"new content")
        seen_during_write.append(target.read_bytes())

    reports_cli.write_atomically(target, write)
    assert seen_during_write == [b"old"]
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
