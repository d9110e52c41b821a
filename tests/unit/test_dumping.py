"""The compiled response dump (coop/dumping.py) gives exactly marshmallow's result.

The whole suite also runs with DUMP_CROSSCHECK on, so every real response is compared;
this property test reaches the corners real responses may not: missing keys, None,
defaults, renamed keys, attribute sources, nested lists, computed fields and objects
that are not dicts.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

from coop.dumping import CompiledDump, compile_one
from coop.fields import Rate


class LineOut(Schema):
    line_no = fields.Integer()
    amount_fen = fields.Integer()
    paid_on = fields.Date(allow_none=True)


class Label(str):
    """A str subclass: the compiled dump passes only exact str values through unchanged."""


class ThingOut(Schema):
    id = fields.Integer()
    count = fields.Integer(as_string=True)
    name = fields.String()
    kind = fields.String(dump_default="farmer")
    display = fields.String(data_key="displayName")
    source = fields.String(attribute="origin")
    ok = fields.Boolean()
    rate = Rate()
    on = fields.Date()
    at = fields.DateTime()
    line = fields.Nested(LineOut, allow_none=True)
    lines = fields.List(fields.Nested(LineOut))
    tags = fields.List(fields.String())
    shout = fields.Method("_shout")
    secret = fields.String(load_only=True)

    def _shout(self, obj):
        name = obj.get("name") if isinstance(obj, dict) else getattr(obj, "name", None)
        return (name or "").upper()


lines = st.fixed_dictionaries({}, optional={
    "line_no": st.integers(1, 10**6), "amount_fen": st.integers(-10**12, 10**12),
    "paid_on": st.none() | st.dates()})
values = {
    # bool is an int subclass: marshmallow dumps True through Integer as 1.
    "id": st.integers(1, 2**63 - 1) | st.booleans(), "count": st.integers(0, 10**6),
    "name": st.none() | st.text(max_size=8) | st.builds(Label, st.text(max_size=3)),
    "kind": st.sampled_from(["farmer", "collective"]), "display": st.text(max_size=5),
    "origin": st.text(max_size=5), "ok": st.booleans(),
    "rate": st.none() | st.decimals(0, 1, places=4),
    "on": st.none() | st.dates(),
    "at": st.none() | st.datetimes(timezones=st.just(timezone.utc)),
    "line": st.none() | lines, "lines": st.lists(lines, max_size=3),
    "tags": st.lists(st.text(max_size=3), max_size=3), "secret": st.text(max_size=3),
}
things = st.fixed_dictionaries({}, optional=values)


def wire(data) -> str:
    """What the client receives: `True == 1` in Python, not on the wire."""
    return json.dumps(data, sort_keys=True, default=str)


@settings(max_examples=300)
@given(things)
def test_compiled_dump_equals_marshmallow_for_dicts(thing):
    schema = ThingOut()
    assert wire(CompiledDump(schema)(thing)) == wire(Schema.dump(schema, thing))


@settings(max_examples=100)
@given(st.lists(things, max_size=4))
def test_compiled_dump_equals_marshmallow_for_objects_and_many(batch):
    schema = ThingOut(many=True)
    objects = [SimpleNamespace(**thing) for thing in batch]
    assert wire(CompiledDump(schema)(objects)) == wire(Schema.dump(schema, objects))
    assert wire(CompiledDump(schema)(batch)) == wire(Schema.dump(schema, batch))


def test_known_values_come_out_in_wire_form():
    thing = {"id": 7, "display": "张三", "origin": "import", "rate": Decimal("0.2000"),
             "on": date(2024, 1, 2), "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
             "lines": [{"line_no": 1, "amount_fen": 100}], "secret": "x"}
    out = CompiledDump(ThingOut())(thing)
    assert out == {"id": 7, "kind": "farmer", "displayName": "张三", "source": "import",
                   "rate": "0.20", "on": "2024-01-02", "at": "2024-01-02T03:04:05+00:00",
                   "lines": [{"line_no": 1, "amount_fen": 100}], "shout": ""}


def test_schemas_with_dump_hooks_are_left_to_marshmallow():
    class Hooked(Schema):
        a = fields.Integer()

        @post_dump
        def add(self, data, **kwargs):
            return {**data, "b": 1}

    assert compile_one(Hooked()) is None
    assert CompiledDump(Hooked())({"a": 2}) == {"a": 2, "b": 1}
