"""`flask cities create`, `flask counties create [--city-code]`, `flask counties
zone-size`: places made from the command line by whoever runs the server (the audit rows
have no actor)."""
from __future__ import annotations

import click
from flask import Blueprint
from flask.cli import with_appcontext
from sqlalchemy import select

from coop.commands import reported
from coop.extensions import db
from coop.places import cities, services, settings
from coop.places.models import County

# cli_group=None: the groups below become top-level commands (`flask counties create`).
cli = Blueprint("places_cli", __name__, cli_group=None)


@cli.cli.group("counties")
def counties_group():
    """Counties (县)."""


@counties_group.command("create")
@click.option("--name", required=True, help="County name, e.g. 单县")
@click.option("--code", required=True, help="6-digit administrative division code")
@click.option("--city-code", default=None,
              help="Code of the city (地级市) the county belongs to, e.g. 371700")
@with_appcontext
def create_county(name, code, city_code):
    """Create a county and print its id."""
    with reported():
        county = services.create_county(db.session, None, name=name, code=code)
        if city_code is not None:
            cities.attach_county(db.session, None, county,
                                 cities.city_by_code(db.session, city_code))
    click.echo(county.id)


@counties_group.command("set-city")
@click.option("--code", required=True, help="The county's 6-digit code")
@click.option("--city-code", required=True, help="The city's 6-digit code")
@with_appcontext
def set_city(code, city_code):
    """Put an existing county under a city."""
    with reported():
        cities.attach_county(db.session, None, _county(code),
                             cities.city_by_code(db.session, city_code))
    click.echo(f"{code} → {city_code}")


@counties_group.command("zone-size")
@click.option("--code", required=True, help="The county's 6-digit code")
@click.option("--min", "minimum", type=int, required=True, help="Fewest villages in a zone")
@click.option("--max", "maximum", type=int, required=True, help="Most villages in a zone")
@with_appcontext
def zone_size(code, minimum, maximum):
    """Set how many villages a demonstration zone (片区) of the county holds (default 3–5)."""
    with reported():
        settings.set_zone_size(db.session, None, _county(code).id, minimum, maximum)
    click.echo(f"{code}: {minimum}–{maximum}")


def _county(code: str) -> County:
    county = db.session.execute(select(County).where(County.code == code)).scalar_one_or_none()
    if county is None:
        raise click.ClickException(f"county {code} does not exist")
    return county


@cli.cli.group("cities")
def cities_group():
    """Cities (地级市)."""


@cities_group.command("create")
@click.option("--name", required=True, help="City name, e.g. 菏泽市")
@click.option("--code", required=True, help="6-digit administrative division code, e.g. 371700")
@with_appcontext
def create_city(name, code):
    """Create a city and print its id."""
    with reported():
        city = cities.create_city(db.session, None, name=name, code=code)
    click.echo(city.id)
