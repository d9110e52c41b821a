"""`flask notify send`: run by cron every minute (docs/notifications.md)."""
from __future__ import annotations

import click
from flask import Blueprint
from flask.cli import with_appcontext

from coop.notifications.sender import send_due

cli = Blueprint("notify_cli", __name__, cli_group="notify")


@cli.cli.command("send")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="most deliveries to try in this run")
@with_appcontext
def send_command(limit: int):
    """Send the WeChat subscribe messages that are due (safe to run several at once)."""
    counts = send_due(limit)
    click.echo(" ".join(f"{k}={counts.get(k, 0)}" for k in
                        ("sent", "no_quota", "failed", "retry", "lost", "lease_expired")))
