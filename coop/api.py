"""The flask-smorest Api, with the contract's error format and bounded path ids."""
from __future__ import annotations

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import resolve_schema_instance
from werkzeug.routing import IntegerConverter

from coop.dbtypes import MAX_ID
from coop.dumping import CompiledDump
from coop.errors import problem_for_exception


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that only matches ids a BIGINT can hold: a huge id is a 404, not a 500."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Api(SmorestApi):
    def handle_http_exception(self, error):
        return problem_for_exception(error)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint whose response schemas dump through `CompiledDump`."""

    def response(self, status_code, schema=None, **kwargs):
        if schema is not None:
            schema = resolve_schema_instance(schema)
            schema.dump = CompiledDump(schema)
        return super().response(status_code, schema, **kwargs)
