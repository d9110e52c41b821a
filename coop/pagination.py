"""Pagination in the body (CONTRACT §0): {items, page, per_page, total}."""
from __future__ import annotations

from collections import namedtuple
from functools import cached_property, lru_cache

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, bindparam, func, select

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
    """One page of `stmt` and the total number of rows its filter matches (a statement
    built for this request; a list read often builds it once: `PageQuery`)."""
    return PageQuery(stmt, scalars=scalars).page(session, page, per_page)


class PageQuery:
    """A list's page statements, derived from its SELECT once.

    On a round-trip-bound database each statement is most of a small list's cost, so a
    page carries its total in the same query, as an uncorrelated scalar subquery
    (`(SELECT count(*) FROM <its tables> WHERE <its filter>)`) the server evaluates
    once, from the index: one statement. Not `COUNT(*) OVER ()`, which makes the server
    read every matching row in full before the LIMIT (several times slower on a large
    cooperative: docs/performance.md, "Round trips and drivers"). Only a page past the
    end (no row to carry it) asks for the total on its own. DISTINCT queries, and rows of
    several columns from a statement built per request (`paginate(..., scalars=False)`:
    their callers read the rows by position), keep the separate COUNT, which a page that
    is neither empty nor full (the last one: its offset plus its length) still saves.

    Building and hashing a statement costs more CPU than running it on a small page
    (docs/performance.md, "CPU per request"), so the busiest lists keep one PageQuery per
    shape of their filters, its values passed as bind parameters (`page(..., params)`).
    Such a list selects the columns it shows (`rows=True`): its items are the rows as
    named tuples (a SQLAlchemy Row answers each attribute through Python, ten times
    slower: a twentieth of a members page), each also carrying the page's total as
    `page_total`.
    """

    LIMIT = bindparam("page_limit")
    OFFSET = bindparam("page_offset")

    def __init__(self, stmt: Select, *, scalars: bool = True, rows: bool = False):
        self.stmt = stmt
        self.objects = scalars and not rows
        self.rows = rows
        self._row_types: dict = {}

    # Each derived statement is built when first needed, then kept with the PageQuery.
    @cached_property
    def count(self) -> Select:
        stmt = self.stmt.order_by(None)
        if _one_row_each(stmt):
            # Its rows are its tables' rows under its WHERE: counted there, without the
            # derived table of every selected column, which MariaDB parses and plans on
            # each page (a fifth of a members page's server time: docs/performance.md).
            return stmt.with_only_columns(func.count(), maintain_column_froms=True)
        return select(func.count()).select_from(stmt.subquery())

    @cached_property
    def with_total(self) -> Select | None:
        if not (self.objects or self.rows) or not isinstance(self.stmt, Select) \
                or self.stmt._distinct:
            return None
        # Never correlated to the page's row: it counts the whole list.
        total = self.count.scalar_subquery().correlate(None).label("page_total")
        return (self.stmt.add_columns(total)
                .limit(self.LIMIT).offset(self.OFFSET))

    @cached_property
    def plain(self) -> Select:
        return self.stmt.limit(self.LIMIT).offset(self.OFFSET)

    def _execute(self, session, stmt, params):
        if self.rows:
            # Columns, not objects: past the ORM's per-statement work, straight to the
            # connection. Flushed first, as the session would (an autoflush) — a list
            # read after a write in the same request sees that write.
            session.flush()
            return session.connection().execute(stmt, params)
        return session.execute(stmt, params)

    def _fetch(self, session, stmt, params) -> list:
        result = self._execute(session, stmt, params)
        if not self.rows:
            return result.all()
        row_type = self._row_types.get(stmt)
        if row_type is None:
            row_type = self._row_types[stmt] = namedtuple("PageRow", result.keys(),
                                                          rename=True)
        return list(map(row_type._make, result.fetchall()))

    def page(self, session, page: int, per_page: int, params: dict | None = None) -> dict:
        offset = (page - 1) * per_page
        values = {**(params or {}), "page_limit": per_page, "page_offset": offset}
        if self.with_total is not None:
            rows = self._fetch(session, self.with_total, values)
            if rows:
                items = [row[0] for row in rows] if self.objects else rows
                return {"items": items, "page": page, "per_page": per_page,
                        "total": rows[0][-1]}
            items = []
        elif self.objects:
            items = self._execute(session, self.plain, values).scalars().all()
        else:
            items = self._fetch(session, self.plain, values)
        if 0 < len(items) < per_page or (page == 1 and not items):
            total = offset + len(items)
        else:
            total = self._execute(session, self.count, values).scalar_one()
        return {"items": items, "page": page, "per_page": per_page, "total": total}


def _one_row_each(stmt) -> bool:
    """A plain SELECT: one result row for each row of its joined tables that its WHERE
    keeps (no grouping, DISTINCT, limit, or ORM loader options, which need the entity
    the count replaces)."""
    return (isinstance(stmt, Select) and not stmt._group_by_clauses
            and not stmt._having_criteria and not stmt._distinct
            and stmt._limit_clause is None and stmt._offset_clause is None
            and not stmt._with_options)


def present(page: dict, view) -> dict:
    """A page of rows shown through `view` (which masks what must be masked)."""
    return {**page, "items": [view(row) for row in page["items"]]}
