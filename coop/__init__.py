"""create_app() builds the Flask application: configuration, extensions, every blueprint
and CLI group (named in `_register_blueprints`, the map of what the app serves), the hooks
that connect the layers (`_connect_layers`), and the one unit of work around every view."""
from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ConfigError, check_production_secrets, load_config
from coop.transaction import run_in_transaction

class App(Flask):
    """Flask whose every view, whatever blueprint it comes from, runs in one unit of work
    (coop/transaction.py): committed when it returns, rolled back when it raises, and run
    again when the database refuses it for a conflict (a Galera certification failure).

    Each attempt starts from what the request started with: `g` as the before-request
    hooks left it (the request id, the console's session) — whatever a failed attempt put
    there (the caller, a cached user, a flash message) is taken back — and uploaded files
    rewound. JSON and form bodies are cached by the request object and parse again."""

    def dispatch_request(self):
        start = _g_snapshot()

        def before_retry():
            _g_restore(start)
            _rewind_uploads()

        return run_in_transaction(super().dispatch_request, before_retry=before_retry)


def _g_snapshot() -> dict:
    return _copied(vars(g._get_current_object()))


def _g_restore(snapshot: dict) -> None:
    state = vars(g._get_current_object())
    state.clear()
    # A fresh copy again: a third attempt starts from the start, not from the second.
    state.update(_copied(snapshot))


def _copied(state: dict) -> dict:
    # One level deep: the console's session is a dict its views change in place.
    return {key: copy.copy(value) if isinstance(value, (dict, list, set)) else value
            for key, value in state.items()}


def _rewind_uploads() -> None:
    """A failed attempt read the uploaded files to their end; the next reads them again.
    (Only if the form was parsed: reading `request.files` now would parse it.)"""
    if "files" not in vars(request._get_current_object()):
        return
    for _, upload in request.files.items(multi=True):
        upload.stream.seek(0)


class JSONProvider(DefaultJSONProvider):
    """ISO dates and decimal strings (Flask's default would give RFC 822 dates); bodies
    are read by the one strict parser (coop/jsonbody.py)."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):
        from coop.jsonbody import loads
        return loads(s)

    @staticmethod
    def default(o):
        if isinstance(o, datetime):
            return o.isoformat()
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Foreign keys are off by default in SQLite; a busy timeout lets writers queue.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _engine_options(uri: str) -> dict:
    # hide_parameters: a database error's text never carries the statement's values (a
    # payout line's payee name and encrypted account) into a log line or a traceback.
    if uri.startswith("mysql"):
        # No pool_pre_ping: a ping is one more exchange on every checkout, a large part
        # of a small read. Connections are recycled by age instead (well inside the server's
        # wait_timeout), and one found dropped is replaced and the request's first read
        # retried (auth.policy.authenticate). Isolation (READ COMMITTED), autocommit and
        # the reset on return are coop/dbconn.py's: create_app() installs it.
        return {"pool_recycle": 1800, "hide_parameters": True}
    return {"hide_parameters": True}


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding any key (tests)."""
    cfg = load_config()
    if config:
        cfg.update(config)
    check_production_secrets(cfg)

    app = App(__name__, instance_path=str(_instance_dir()))
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
    from coop import jsonbody
    jsonbody.init_app(app)  # after the request id: a refused body's 400 carries it
    _security_headers(app)

    from coop.api import Api, BoundedIntConverter
    from coop.errors import register_error_handlers
    from coop.extensions import db, limiter, migrate

    app.url_map.converters["int"] = BoundedIntConverter
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql"):
        import coop.dbconn as dbconn
        with app.app_context():
            dbconn.install(db.engine)
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
    _register_blueprints(app, api)
    _connect_layers()
    return app


def _register_blueprints(app: Flask, api) -> None:
    from auth import cli as auth_cli
    from auth import routes as auth_routes
    from coop import audit, audit_routes, backup, health, idempotency, seed
    from coop.attachments import routes as attachments_routes
    from coop.county import routes as county_routes
    from coop.distribution import disclosure
    from coop.distribution import routes as distribution_routes
    from coop.notifications import cli as notifications_cli
    from coop.notifications import routes as notifications_routes
    from coop.payouts import routes as payouts_routes
    from coop.places import cli as places_cli
    from coop.places import routes as places_routes
    from coop.registry import blueprint as registry
    from coop.registry import board_routes, member_routes, routes  # noqa: F401 (on registry.blp)
    from coop.reports import cli as reports_cli
    from coop.reports import routes as reports_routes
    from coop.reports import document_routes
    from coop.shares import routes as shares_routes

    for blueprint in (auth_routes.blp, places_routes.blp, registry.blp,
                      shares_routes.blp, payouts_routes.blp, distribution_routes.blp,
                      county_routes.blp, reports_routes.blp, document_routes.blp,
                      attachments_routes.blp, audit_routes.blp):
        api.register_blueprint(blueprint)
    for blueprint in (health.bp, disclosure.bp):
        app.register_blueprint(blueprint)
    for group in (auth_cli.cli, places_cli.cli, seed.cli, audit.cli, idempotency.cli,
                  reports_cli.cli, backup.cli):
        app.register_blueprint(group)
    # Notifications (coop/notifications): the inbox routes and `flask notify send`.
    api.register_blueprint(notifications_routes.blp)
    app.register_blueprint(notifications_cli.cli)
    # The county console (/console/: pages, its own cookie session) and Swagger UI's
    # assets served locally.
    from coop import console
    console.init_app(app)


def _connect_layers() -> None:
    """A lower layer never imports a higher one; where it must let a higher one react, it
    offers a hook, and the higher one is plugged in here. Plain assignments: calling this
    for every app a process builds (tests build several) changes nothing."""
    from auth import scopes
    import coop.audit as audit
    import coop.audit_routes as audit_routes
    from coop.county import rewards
    from coop.notifications import events
    from coop.payouts import settlement
    from coop.places.cities import City
    from coop.places.models import County
    from coop.registry.models import Cooperative, Member

    scopes.SCOPE_MODELS.update(county=County, cooperative=Cooperative, member=Member,
                               city=City)
    settlement.ON_PAID["reward"] = rewards.settle_paid
    settlement.ON_REVERSED["reward"] = rewards.settle_reversed
    audit.ON_RECORD["notifications"] = events.on_audit
    audit.CHAIN_OF = audit_routes.chain_of


def _security_headers(app: Flask) -> None:
    """No JSON answer (tokens, ID numbers, payouts) is kept by a cache or a shared phone's
    browser, and none is sniffed into HTML; the app's HTML pages (the 公示 notice) are
    never framed by another site."""

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            policy = response.headers.get("Content-Security-Policy")
            if not policy:
                response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
            elif "frame-ancestors" not in policy:
                response.headers["Content-Security-Policy"] = policy + "; frame-ancestors 'none'"
            response.headers.setdefault("X-Frame-Options", "DENY")
        elif response.is_json:
            response.headers["Cache-Control"] = "no-store"
        return response


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
