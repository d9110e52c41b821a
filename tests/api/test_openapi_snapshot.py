"""The served API is the contract the clients are built against: a refactoring must not
change it. `openapi_operations.json` was taken from the served spec before the layers
were rearranged (paths, methods, summaries, parameters, response codes); a change to the
API itself updates it in the same commit, on purpose."""
from __future__ import annotations

import json
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("openapi_operations.json")
METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict) -> dict:
    out: dict = {}
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method in METHODS:
                out.setdefault(path, {})[method.upper()] = {
                    "summary": op.get("summary", ""),
                    "responses": sorted(op.get("responses", {})),
                    "parameters": sorted(f"{p['name']}:{p['in']}"
                                         for p in op.get("parameters", []) + shared)}
    return out


def test_served_operations_match_the_snapshot(client):
    served = operations(client.get("/api/v1/openapi.json").get_json())
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert sorted(served) == sorted(expected)
    assert served == expected
