"""Liveness and readiness (CONTRACT §0)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, jsonify
from sqlalchemy import text

from auth.policy import public
from coop.extensions import db

bp = Blueprint("health", __name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


@bp.get("/healthz")
@public
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
        rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        current = frozenset(rows)
    except Exception:
        db.session.rollback()
        return jsonify(status="unavailable", reason="database unreachable or not migrated"), 503
    finally:
        db.session.remove()
    if current != migration_heads():
        return jsonify(status="unavailable", reason="migrations not at head",
                       current=sorted(current), head=sorted(migration_heads())), 503
    return jsonify(status="ok", migration=sorted(current))
