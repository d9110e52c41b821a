"""What a role's scope names: a county, a cooperative or a member record.

Those tables belong to layers above auth (places, registry), which auth may not import;
create_app fills SCOPE_MODELS with them. Each model has `id` and, but for the county,
`county_id`.
"""
from __future__ import annotations

SCOPE_MODELS: dict[str, type] = {}


def scope_model(scope_type: str) -> type:
    return SCOPE_MODELS[scope_type]
