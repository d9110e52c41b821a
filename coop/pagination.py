"""Pagination in the body (CONTRACT §0): {items, page, per_page, total}."""
from __future__ import annotations

from functools import lru_cache

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from coop.fields import Integer

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


class PageArgs(Schema):
    page = Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = Integer(load_default=20,
                       validate=validate.Range(min=1, max=MAX_PER_PAGE))


@lru_cache(maxsize=None)
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """A page-of-items schema for the OpenAPI spec and serialization."""
    return type(f"{item_schema.__name__.removesuffix('Schema')}PageSchema", (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "page": Integer(required=True),
        "per_page": Integer(required=True),
        "total": Integer(required=True),
    })


def paginate(session, stmt, page: int, per_page: int, *, scalars: bool = True) -> dict:
    """Run `stmt` for one page plus, unless the page itself tells, a COUNT of the filter.

    A page that is neither empty nor full is the last one, so the total is its offset
    plus its length: most phone lists (a member's payouts, a small cooperative's members)
    fit on one page and are served by one query.
    """
    offset = (page - 1) * per_page
    result = session.execute(stmt.limit(per_page).offset(offset))
    items = result.scalars().all() if scalars else result.all()
    if 0 < len(items) < per_page or (page == 1 and not items):
        total = offset + len(items)
    else:
        total = session.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def present(page: dict, view) -> dict:
    """A page of rows shown through `view` (which masks what must be masked)."""
    return {**page, "items": [view(row) for row in page["items"]]}
