"""A page and its total are what the whole list, cut by hand, says they are, whatever
the list's shape: a plain filter, a join that repeats a row per child, DISTINCT, GROUP BY
(coop/pagination.py counts the first two in place and the others over a derived table)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (Column, ForeignKey, Integer, MetaData, String, Table, bindparam,
                        create_engine, func, insert, select)
from sqlalchemy.orm import Session

from coop.pagination import PageQuery, paginate

metadata = MetaData()
parent = Table("parent", metadata, Column("id", Integer, primary_key=True),
               Column("kind", String(8), nullable=False))
child = Table("child", metadata, Column("id", Integer, primary_key=True),
              Column("parent_id", ForeignKey("parent.id"), nullable=False),
              Column("flag", Integer, nullable=False))

SHAPES = {
    # name: (statement, parameters, its rows computed in Python from (parents, children))
    "filter": (select(child.c.id, child.c.flag).where(child.c.flag == bindparam("flag"))
               .order_by(child.c.id), {"flag": 1},
               lambda ps, cs: [(c, f) for c, _, f in cs if f == 1]),
    "join": (select(parent.c.id, child.c.id.label("child_id"))
             .join(child, child.c.parent_id == parent.c.id)
             .where(parent.c.kind == bindparam("kind")).order_by(child.c.id), {"kind": "a"},
             lambda ps, cs: [(p, c) for c, p, _ in cs if ps[p] == "a"]),
    "distinct": (select(child.c.parent_id).distinct().order_by(child.c.parent_id), {},
                 lambda ps, cs: [(p,) for p in sorted({p for _, p, _ in cs})]),
    "grouped": (select(child.c.parent_id, func.count().label("n"))
                .group_by(child.c.parent_id).order_by(child.c.parent_id), {},
                lambda ps, cs: [(p, sum(1 for _, q, _ in cs if q == p))
                                for p in sorted({p for _, p, _ in cs})]),
}

data = st.lists(st.sampled_from("ab"), min_size=1, max_size=6).flatmap(
    lambda kinds: st.tuples(st.just(kinds), st.lists(
        st.tuples(st.integers(1, len(kinds)), st.integers(0, 1)), max_size=30)))


@pytest.fixture(scope="module")
def engine():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@settings(max_examples=60, deadline=None)
@given(data=data, page=st.integers(1, 5), per_page=st.integers(1, 7),
       shape=st.sampled_from(sorted(SHAPES)), built_once=st.booleans())
def test_a_page_and_its_total_match_the_whole_list(engine, data, page, per_page, shape,
                                                   built_once):
    kinds, children = data
    parents = {i + 1: kind for i, kind in enumerate(kinds)}
    rows = [(i + 1, p, f) for i, (p, f) in enumerate(children)]
    stmt, params, expected_of = SHAPES[shape]
    expected = expected_of(parents, rows)
    with Session(engine) as session:
        session.execute(insert(parent), [{"id": i, "kind": k} for i, k in parents.items()])
        if rows:
            session.execute(insert(child), [{"id": c, "parent_id": p, "flag": f}
                                            for c, p, f in rows])
        if built_once:
            got = PageQuery(stmt, rows=True).page(session, page, per_page, params)
        else:
            got = paginate(session, stmt.params(params), page, per_page, scalars=False)
        session.rollback()
    offset = (page - 1) * per_page
    assert [tuple(row[:len(expected[0])]) if expected else row for row in got["items"]] \
        == expected[offset:offset + per_page]
    assert got["total"] == len(expected)


def test_a_plain_list_is_counted_in_place_and_the_count_is_not_correlated():
    """The total of a plain list is one statement with the page: count(*) over the
    list's own table, not over a derived copy of every column; a grouped list is counted
    over its groups."""
    query = PageQuery(SHAPES["filter"][0], rows=True)
    sql = str(query.with_total.compile()).lower()
    assert sql.count("from child") == 2 and "anon" not in sql, sql
    grouped = PageQuery(SHAPES["grouped"][0], scalars=False)
    assert "anon" in str(grouped.count.compile()).lower()
