"""What every CLI command shares: its writes in one unit of work, and a service's refusal
as a one-line error with exit status 1 (never a traceback).

A CLI write is not retried on a conflict (coop/transaction.py): the block of a `with` runs
once, and an operator at a terminal can simply run the command again, which the one-line
error says; nothing of the refused transaction was written."""
from __future__ import annotations

from contextlib import contextmanager

import click
from sqlalchemy.exc import DBAPIError

from coop.errors import DomainError, database_refusal
from coop.transaction import unit_of_work


@contextmanager
def reported():
    """Run the block in one unit of work; a DomainError, a lost conflict or an unavailable
    database node becomes a ClickException."""
    try:
        with unit_of_work():
            yield
    except DomainError as exc:
        detail = f"{exc.code}: {exc.detail}"
        if exc.errors:
            detail += f" {exc.errors}"
        raise click.ClickException(detail) from None
    except DBAPIError as exc:
        refusal = database_refusal(exc)
        if refusal is None:
            raise
        raise click.ClickException(f"{refusal.code}: {refusal.detail}") from None
