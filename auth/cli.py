"""`flask users …`: a county's first administrator and other users, and their roles
(`flask counties create` is coop/places/cli.py).

Passwords are never command-line arguments (they would sit in the shell history and in
`ps`): they are prompted for (hidden, typed twice) or read from standard input with
`--password-stdin`. The CLI acts as the system: audit rows have no actor.
"""
from __future__ import annotations

import sys

import click
from flask import Blueprint
from flask.cli import with_appcontext
from sqlalchemy import select

from auth import users
from auth.models import DEPARTMENTS, ROLES, SCOPE_OF_ROLE, User
from auth.policy import Grant
from coop.commands import reported
from coop.extensions import db

# cli_group=None: the groups below become top-level commands (`flask counties create`).
cli = Blueprint("identity_cli", __name__, cli_group=None)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _user(phone: str | None, user_id: int | None) -> User:
    if (phone is None) == (user_id is None):
        raise click.UsageError("give exactly one of --phone and --user-id")
    stmt = select(User).where(User.phone == phone if phone else User.id == user_id)
    user = db.session.execute(stmt).scalar_one_or_none()
    if user is None:
        raise click.ClickException("no such user")
    return user


def _target(phone, user_id, role, scope_id, department) -> tuple[User, Grant]:
    """The user and the role named by grant/revoke's options."""
    if scope_id is None:
        raise click.UsageError("--scope-id is required")
    return _user(phone, user_id), Grant(role, SCOPE_OF_ROLE[role], scope_id, department or "")


@cli.cli.group("users")
def users_group():
    """Users and their roles."""


def _role_options(func):
    func = click.option("--department", type=click.Choice(DEPARTMENTS),
                        help="Department, for county_reviewer")(func)
    func = click.option("--scope-id", type=click.IntRange(min=1),
                        help="Id of the county, cooperative or member the role is held on")(func)
    return func


def _who_options(func):
    func = click.option("--user-id", type=click.IntRange(min=1))(func)
    return click.option("--phone")(func)


@users_group.command("create")
@click.option("--phone", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), help="Role to grant (e.g. county_admin)")
@_role_options
@click.option("--superuser", is_flag=True, help="May act in every county")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@with_appcontext
def create_user(phone, name, role, scope_id, department, superuser, password_stdin):
    """Create a user (prompting for the password) and print the new id."""
    if role and scope_id is None:
        raise click.UsageError("--role needs --scope-id")
    if not role and not superuser:
        raise click.UsageError("give --role and --scope-id, or --superuser")
    password = _password(password_stdin)
    roles = [Grant(role, SCOPE_OF_ROLE[role], scope_id, department or "")] if role else []
    with reported():
        user = users.create_user(db.session, None, phone=phone, name=name, password=password,
                                 roles=roles, is_superuser=superuser)
    click.echo(user.id)


@users_group.command("grant")
@_who_options
@click.option("--role", type=click.Choice(ROLES), required=True)
@_role_options
@with_appcontext
def grant(phone, user_id, role, scope_id, department):
    """Give a user a role on a county, cooperative or member record."""
    user, spec = _target(phone, user_id, role, scope_id, department)
    with reported():
        assignment = users.grant_role(db.session, None, user, spec)
    click.echo(f"granted {role} on {assignment.scope_type} {scope_id} (role id {assignment.id})")


@users_group.command("revoke")
@_who_options
@click.option("--role", type=click.Choice(ROLES), required=True)
@_role_options
@with_appcontext
def revoke(phone, user_id, role, scope_id, department):
    """Take a role away from a user."""
    user, spec = _target(phone, user_id, role, scope_id, department)
    with reported():
        assignment = users.find_role(user, spec)
        users.revoke_role(db.session, None, user, assignment.id)
    click.echo(f"revoked {role} on {SCOPE_OF_ROLE[role]} {scope_id}")


@users_group.command("set-password")
@_who_options
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@with_appcontext
def set_password(phone, user_id, password_stdin):
    """Set a user's password (prompted); all their logins end."""
    user = _user(phone, user_id)
    with reported():
        users.reset_password(db.session, user, _password(password_stdin))
    click.echo(f"password set for user {user.id}; their sessions were ended")
