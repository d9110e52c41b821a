"""The flask-smorest Api, with the contract's error format and bounded path ids."""
from __future__ import annotations

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import resolve_schema_instance
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter

from coop.dbtypes import MAX_ID
from coop.dumping import CompiledDump
from coop.errors import problem_for_exception
from coop.fields import TEXT_LOCATION


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that only matches ids a BIGINT can hold: a huge id is a 404, not a 500."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Api(SmorestApi):
    def handle_http_exception(self, error):
        return problem_for_exception(error)


class Parser(FlaskParser):
    """webargs' parser with two changes. The JSON body is the one `coop/jsonbody.py`
    parsed before the view (webargs would parse it again with plain `json.loads`). And
    while a location whose values are text (query, path, form, headers) is loaded, the
    shared `Integer` field accepts ASCII digit strings there — and only there: in a JSON
    body `"100"` is not a number."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return req.get_json(cache=True)

    def _process_location_data(self, location_data, schema, req, location, *args, **kwargs):
        token = TEXT_LOCATION.set(location not in ("json", "json_or_form"))
        try:
            return super()._process_location_data(location_data, schema, req, location,
                                                  *args, **kwargs)
        finally:
            TEXT_LOCATION.reset(token)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint whose response schemas dump through `CompiledDump`, and
    whose argument schemas are instantiated once: given a class, webargs builds a new
    instance on every request, a measurable part of a list's CPU (docs/performance.md,
    "CPU per request"), and a marshmallow 4 schema keeps no state between loads."""

    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, **kwargs):
        return super().arguments(resolve_schema_instance(schema), **kwargs)

    def response(self, status_code, schema=None, **kwargs):
        if schema is not None:
            schema = resolve_schema_instance(schema)
            schema.dump = CompiledDump(schema)
        return super().response(status_code, schema, **kwargs)
