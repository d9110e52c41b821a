"""What every CLI command shares: its writes in one unit of work, and a service's refusal
as a one-line error with exit status 1 (never a traceback)."""
from __future__ import annotations

from contextlib import contextmanager

import click

from coop.errors import DomainError
from coop.transaction import unit_of_work


@contextmanager
def reported():
    """Run the block in one unit of work; a DomainError becomes a ClickException."""
    try:
        with unit_of_work():
            yield
    except DomainError as exc:
        detail = f"{exc.code}: {exc.detail}"
        if exc.errors:
            detail += f" {exc.errors}"
        raise click.ClickException(detail) from None
