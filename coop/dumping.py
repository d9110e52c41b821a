"""Response serialization: marshmallow's `dump`, compiled once per response schema.

Every response still goes through its documented schema (the schema is the whitelist of
what a body may contain), but `Schema.dump` looks each field up through three layers of
accessors; on a page of twenty members that was a third of the request's time. The
compiled dumper resolves, once, each field's output key, source key and serializer, and
per object does the same steps as marshmallow: read the key (dict item, else attribute),
apply `dump_default` when missing, skip it if still missing, then the field's own
`_serialize`. Fields marshmallow computes itself (`Method`, `Function`, dotted
attributes) and schemas with dump hooks fall back to marshmallow.

With `DUMP_CROSSCHECK` set (the test suite sets it) every response is dumped both ways
and a difference raises, so the whole suite checks the two agree.
"""
from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, missing
from marshmallow.utils import get_value


class CompiledDump:
    """A callable standing in for `schema.dump` on one schema instance."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.dump_one = compile_one(schema)

    def __call__(self, obj, *, many: bool | None = None):
        many = self.schema.many if many is None else many
        if self.dump_one is None:
            result = Schema.dump(self.schema, obj, many=many)
        else:
            result = [self.dump_one(o) for o in obj] if many else self.dump_one(obj)
        if current_app and current_app.config.get("DUMP_CROSSCHECK"):
            expected = Schema.dump(self.schema, obj, many=many)
            if result != expected:
                raise AssertionError(f"compiled dump of {type(self.schema).__name__} differs:"
                                     f" {result!r} != {expected!r}")
        return result


def compile_one(schema: Schema):
    """A function dumping one object as `schema.dump` would, or None if it cannot."""
    if schema._hooks.get("pre_dump") or schema._hooks.get("post_dump"):
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        out = field.data_key if field.data_key is not None else name
        key = field.attribute if field.attribute is not None else name
        if not field._CHECK_ATTRIBUTE or "." in str(key):
            steps.append((out, None, field, name))      # marshmallow computes it
        else:
            steps.append((out, key, field, _converter(name, field)))

    def dump_one(obj):
        ret = {}
        is_dict = isinstance(obj, dict)
        for out, key, field, conv in steps:
            if key is None:
                value = field.serialize(conv, obj, accessor=schema.get_attribute)
                if value is not missing:
                    ret[out] = value
                continue
            value = obj[key] if is_dict and key in obj else get_value(obj, key, missing)
            if value is missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is missing:
                    continue
            ret[out] = conv(value)
        return ret
    return dump_one


def _converter(name: str, field: fields.Field):
    if isinstance(field, fields.Nested):
        inner = _nested(field.schema)
        if field.many:
            return lambda v: None if v is None else [inner(x) for x in v]
        return lambda v: None if v is None else inner(v)
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested) \
            and not field.inner.many:
        inner = _nested(field.inner.schema)
        return lambda v: None if v is None else [inner(x) for x in v]
    serialize = field._serialize
    same = _unchanged_type(field)
    if same is not None:
        # Skip the call for a value already of the type the field outputs.
        return lambda v: v if v.__class__ is same else serialize(v, name, None)
    return lambda v: serialize(v, name, None)


def _unchanged_type(field: fields.Field) -> type | None:
    """The type whose values `field` dumps unchanged: a str through marshmallow's own
    `String._serialize`, an int through its `Number._serialize` of an integer field
    not dumped as a string. DUMP_CROSSCHECK holds the shortcut to marshmallow."""
    method = type(field)._serialize
    if method is fields.String._serialize:
        return str
    if method is fields.Number._serialize and getattr(field, "num_type", None) is int \
            and not field.as_string:
        return int
    return None


def _nested(schema: Schema):
    one = compile_one(schema)
    if one is None:
        return lambda obj: Schema.dump(schema, obj, many=False)
    return one
