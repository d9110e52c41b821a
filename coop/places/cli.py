"""`flask counties create`: a county (县), made from the command line by whoever runs the
server (the audit row has no actor)."""
from __future__ import annotations

import click
from flask import Blueprint
from flask.cli import with_appcontext

from coop.commands import reported
from coop.extensions import db
from coop.places import services

# cli_group=None: the group below becomes a top-level command (`flask counties create`).
cli = Blueprint("places_cli", __name__, cli_group=None)


@cli.cli.group("counties")
def counties_group():
    """Counties (县)."""


@counties_group.command("create")
@click.option("--name", required=True, help="County name, e.g. 单县")
@click.option("--code", required=True, help="6-digit administrative division code")
@with_appcontext
def create_county(name, code):
    """Create a county and print its id."""
    with reported():
        county = services.create_county(db.session, None, name=name, code=code)
    click.echo(county.id)
