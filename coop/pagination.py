"""Pagination in the body (CONTRACT §0): {items, page, per_page, total}."""
from __future__ import annotations

from functools import lru_cache

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

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
    """One page of `stmt` and the total number of rows its filter matches.

    On a round-trip-bound database each statement is most of a small list's cost, so a
    page of objects carries its total in the same query, as an uncorrelated scalar
    subquery (`(SELECT count(*) FROM (<the filter>))`) the server evaluates once, from
    the index: one statement. Not `COUNT(*) OVER ()`, which makes the server read every
    matching row in full before the LIMIT (several times slower on a large cooperative:
    docs/performance.md, "Round trips and drivers"). Only a page past the end (no row to
    carry it) asks for the total on its own. Rows of several columns (`scalars=False`)
    and DISTINCT queries keep the separate COUNT, which a page that is neither empty nor
    full (the last one: its offset plus its length) still saves.
    """
    offset = (page - 1) * per_page
    if scalars and isinstance(stmt, Select) and not stmt._distinct:
        total = select(func.count()).select_from(stmt.order_by(None).subquery())
        rows = session.execute(stmt.add_columns(total.scalar_subquery().label("page_total"))
                               .limit(per_page).offset(offset)).all()
        items = [row[0] for row in rows]
        if rows:
            return {"items": items, "page": page, "per_page": per_page,
                    "total": rows[0][-1]}
    else:
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
