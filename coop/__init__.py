"""The cooperative backend: create_app() builds the Flask application."""
from __future__ import annotations

import importlib
from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ConfigError, check_production_secrets, load_config

# Each capability's routes module exposes `blp` (a flask-smorest Blueprint under /api/v1)
# and may expose `web` (plain Flask blueprints) and `cli` (a blueprint with CLI commands).
CAPABILITIES = (
    "auth.routes",
    "coop.places.routes",
    "coop.registry.routes",
    "coop.shares.routes",
    "coop.distribution.routes",
    "coop.payouts.routes",
    "coop.county.routes",
    "coop.reports.routes",
    "coop.audit_routes",
)


class JSONProvider(DefaultJSONProvider):
    """ISO dates and decimal strings (Flask's default would give RFC 822 dates)."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, datetime):
            return o.isoformat()
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)


def _rollback_open_transaction(dbapi_connection, connection_record, reset_state):
    """Roll back a MySQL connection coming back to the pool only if the server says a
    transaction is open (SERVER_STATUS_IN_TRANS, sent with every reply).

    The ORM session has always rolled back already when a request ends, and SQLAlchemy's
    own reset would send a second ROLLBACK: one round trip in five for a small read. A
    connection dropped mid-transaction (an error path, garbage collection) still gets its
    ROLLBACK, so no lock can sit in the pool.
    """
    from pymysql.constants import SERVER_STATUS
    if dbapi_connection.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS:
        dbapi_connection.rollback()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Foreign keys are off by default in SQLite; a busy timeout lets writers queue.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _engine_options(uri: str) -> dict:
    if uri.startswith("mysql"):
        # READ COMMITTED: locking reads see committed rows and take no gap locks.
        return {"pool_pre_ping": True, "pool_recycle": 3600,
                "isolation_level": "READ COMMITTED",
                # create_app() installs _rollback_open_transaction instead.
                "pool_reset_on_return": None}
    return {}


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding any key (tests)."""
    cfg = load_config()
    if config:
        cfg.update(config)
    check_production_secrets(cfg)

    app = Flask(__name__, instance_path=str(_instance_dir()))
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.update(cfg)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          _engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))

    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from coop import logs
    logs.configure_logging(app.config["LOG_LEVEL"])
    logs.init_request_ids(app)

    from coop.api import Api, BoundedIntConverter
    from coop.errors import register_error_handlers
    from coop.extensions import db, limiter, migrate

    app.url_map.converters["int"] = BoundedIntConverter
    db.init_app(app)
    if app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_reset_on_return", "rollback") is None:
        with app.app_context():
            event.listen(db.engine.pool, "reset", _rollback_open_transaction)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True,
                     compare_type=True)
    limiter.init_app(app)
    _drop_limiter_middleware(app, limiter)
    # A JSON API authenticated by bearer tokens: no cookie session to open per request.
    app.session_interface = NullSessionInterface()
    api = Api(app)  # one per app: tests build several apps in one process
    app.extensions["coop_api"] = api
    api.register_converter(BoundedIntConverter, lambda c: {
        "type": "integer", "minimum": 1, "maximum": c.max, "format": "int64"})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    register_error_handlers(app)

    import coop.models  # noqa: F401  (every table known to the metadata)
    from coop import audit, health, idempotency

    app.register_blueprint(health.bp)
    app.register_blueprint(audit.cli)
    app.register_blueprint(idempotency.cli)
    for name in CAPABILITIES:
        module = importlib.import_module(name)
        if getattr(module, "blp", None) is not None:
            api.register_blueprint(module.blp)
        for blueprint in getattr(module, "web", ()):
            app.register_blueprint(blueprint)
        if getattr(module, "cli", None) is not None:
            app.register_blueprint(module.cli)
    return app


class NullSessionInterface(SessionInterface):
    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        return None


def _drop_limiter_middleware(app: Flask, limiter) -> None:
    """Every limit here is a per-route decorator, which checks itself when its view runs.

    Flask-Limiter's before-request hook would only evaluate default and application-wide
    limits, and there are none; it cost about a tenth of a small read's time. If such
    limits are ever configured, the hook stays.
    """
    if any(app.config.get(key) for key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION",
                                           "RATELIMIT_META")):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)


def _instance_dir():
    from config import INSTANCE_DIR
    INSTANCE_DIR.mkdir(exist_ok=True)
    return INSTANCE_DIR


def _migrations_dir():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent / "migrations"


__all__ = ["create_app", "ConfigError"]
