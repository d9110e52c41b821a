"""Configuration from the environment, in three profiles (CONTRACT §0).

`COOP_ENV` picks the profile: development (default), testing, production. Every other
setting comes from an environment variable of the same name; production refuses to start
with a default or short secret rather than run with one anybody can read in this file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Development defaults. They are public (this file is in git), so production rejects them.
DEV_SECRET = "dev-secret-not-for-production-use-0000"
DEV_FIELD_KEY = "dev-field-key-not-for-production-use-00"
MIN_SECRET_BYTES = 32
PROFILES = ("development", "testing", "production")
RATE_LIMIT_SETTINGS = (
    "RATELIMIT_LOGIN_PER_IP", "RATELIMIT_LOGIN_PER_PHONE", "RATELIMIT_WECHAT_PER_IP",
    "RATELIMIT_BIND_PER_IP", "RATELIMIT_BIND_PER_OPENID", "RATELIMIT_REDEEM_PER_USER",
    "RATELIMIT_REFRESH_PER_IP",
)
ATTACHMENT_STORES = ("local", "s3")
# The S3-compatible store (coop/storage.py). No endpoint means AWS itself.
S3_SETTINGS = ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID",
               "S3_SECRET_ACCESS_KEY", "S3_PREFIX", "S3_ADDRESSING_STYLE")
# path: http://host/bucket/key (MinIO, COS, AWS); virtual: http://bucket.host/key, the
# only style Aliyun OSS accepts.
S3_ADDRESSING_STYLES = ("path", "virtual")
S3_REQUIRED = ("S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")


class ConfigError(RuntimeError):
    """Raised when the environment cannot make a safe configuration."""


def _json_object(env, name: str, depth: int) -> dict:
    """A JSON object from the environment: {str: str} (depth 1) or {str: {str: str}}."""
    raw = env.get(name)
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a JSON object: {exc}") from exc

    def fits(obj, level):
        if level == 0:
            return isinstance(obj, str)
        return isinstance(obj, dict) and all(isinstance(k, str) and fits(v, level - 1)
                                             for k, v in obj.items())
    if not fits(value, depth):
        raise ConfigError(f"{name} must be a JSON object of "
                          + ("strings" if depth == 1 else "objects of strings"))
    return value


def public_base_url(raw: str) -> str:
    """An absolute http(s) URL with no query or fragment, without its trailing slash."""
    if not raw:
        return ""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment or "@" in parts.netloc:
        raise ConfigError(f"PUBLIC_BASE_URL must be an absolute http(s) URL, got {raw!r}")
    return raw.strip().rstrip("/")


def normalize_database_url(url: str) -> str:
    """Force utf8mb4 on MySQL URLs: MySQL's `utf8` cannot store every Chinese name."""
    if not url.startswith("mysql"):
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["charset"] = "utf8mb4"
    return urlunsplit(parts._replace(query=urlencode(query)))


def _int_env(env, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def load_config(env=None) -> dict:
    """Build the Flask config mapping for the profile named by COOP_ENV."""
    env = os.environ if env is None else env
    profile = env.get("COOP_ENV", "development")
    if profile not in PROFILES:
        raise ConfigError(f"COOP_ENV must be one of {', '.join(PROFILES)}, got {profile!r}")
    default_db = f"sqlite:///{INSTANCE_DIR / 'coop.sqlite3'}"
    if profile == "testing":
        default_db = env.get("TEST_DATABASE_URL") or "sqlite://"
    cfg = {
        "COOP_ENV": profile,
        "TESTING": profile == "testing",
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET),
        "JWT_SECRET": env.get("JWT_SECRET", DEV_SECRET),
        "JWT_ISSUER": env.get("JWT_ISSUER", "coop-backend"),
        "JWT_AUDIENCE": env.get("JWT_AUDIENCE", "coop-miniprogram"),
        "JWT_ACCESS_SECONDS": _int_env(env, "JWT_ACCESS_SECONDS", 900),
        "JWT_REFRESH_SECONDS": _int_env(env, "JWT_REFRESH_SECONDS", 30 * 24 * 3600),
        "WECHAT_APPID": env.get("WECHAT_APPID", "wx-dev-appid"),
        "WECHAT_SECRET": env.get("WECHAT_SECRET", "wx-dev-secret"),
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE", "https://api.weixin.qq.com"),
        "WECHAT_TIMEOUT_SECONDS": float(env.get("WECHAT_TIMEOUT_SECONDS", "5")),
        # Subscribe messages (docs/notifications.md): {event: template id}; an event not
        # named goes to the in-app inbox only. Template keywords numbered otherwise than
        # the defaults: {event: {keyword: meaning}}.
        "WECHAT_TEMPLATES": _json_object(env, "WECHAT_TEMPLATES", 1),
        "WECHAT_TEMPLATE_FIELDS": _json_object(env, "WECHAT_TEMPLATE_FIELDS", 2),
        "WECHAT_MINIPROGRAM_STATE": env.get("WECHAT_MINIPROGRAM_STATE", "formal"),
        "NOTIFY_PAGE": env.get("NOTIFY_PAGE", "pages/inbox/inbox"),
        # Where the public sees the app (https://coop.example.cn): links handed out (the
        # 公示 notice's public_url) are built on it, never on the request's Host header,
        # which any client can set. Required in production.
        "PUBLIC_BASE_URL": public_base_url(env.get("PUBLIC_BASE_URL") or (
            "" if profile == "production" else "http://127.0.0.1:8000")),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_HEADERS_ENABLED": True,
        "DISCLOSURE_MIN_DAYS": _int_env(env, "DISCLOSURE_MIN_DAYS", 7),
        "FIELD_ENCRYPTION_KEY": env.get("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # One JSON line per request from the app; gunicorn.conf.py turns it off because
        # gunicorn's own access log (JSON, with the request id) already has that line.
        "REQUEST_LOG": env.get("REQUEST_LOG", "1") != "0",
        # How many reverse proxies (nginx, a load balancer) stand in front and set
        # X-Forwarded-For/-Proto: the client address the rate limits count comes from them.
        "TRUSTED_PROXIES": _int_env(env, "TRUSTED_PROXIES", 0),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(env.get("DATABASE_URL") or default_db),
        # Uploads (member and trade spreadsheets) are the largest bodies we accept.
        "MAX_CONTENT_LENGTH": _int_env(env, "MAX_CONTENT_LENGTH", 5 * 1024 * 1024),
        "IDEMPOTENCY_TTL_HOURS": _int_env(env, "IDEMPOTENCY_TTL_HOURS", 48),
        # flask-smorest / OpenAPI
        "API_TITLE": "村党组织领办合作社 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served by the app from the swagger-ui-bundle package (coop/console/swagger.py):
        # the docs must work on a closed county network, with no CDN.
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        "JSON_SORT_KEYS": False,
        # The county console (coop/console): a session idle this long is over.
        "CONSOLE_IDLE_MINUTES": _int_env(env, "CONSOLE_IDLE_MINUTES", 30),
    }
    # Tunables whose defaults live next to the code that uses them (auth/ratelimits.py,
    # auth/invitations.py, auth/tokens.py): taken from the environment only when set.
    # The console's cookie is Secure outside development unless this says otherwise
    # (CONSOLE_COOKIE_SECURE=0: a browser test served over plain http).
    if env.get("CONSOLE_COOKIE_SECURE"):
        cfg["CONSOLE_COOKIE_SECURE"] = env["CONSOLE_COOKIE_SECURE"] != "0"
    for name in RATE_LIMIT_SETTINGS:
        if env.get(name):
            cfg[name] = env[name]
    if env.get("CROSS_APPOINTMENT_MIN_RATE"):
        cfg["CROSS_APPOINTMENT_MIN_RATE"] = env["CROSS_APPOINTMENT_MIN_RATE"]
    # Attachments (coop/storage.py, coop/attachments): where files live (default
    # instance/attachments) and the largest one accepted (default 20 MiB).
    if env.get("ATTACHMENT_DIR"):
        cfg["ATTACHMENT_DIR"] = env["ATTACHMENT_DIR"]
    if env.get("ATTACHMENT_MAX_BYTES"):
        cfg["ATTACHMENT_MAX_BYTES"] = _int_env(env, "ATTACHMENT_MAX_BYTES", 0)
    # Several app servers cannot share one server's disk: ATTACHMENT_STORE=s3 keeps the
    # files in an S3-compatible bucket instead (docs/operations.md, "File storage").
    cfg["ATTACHMENT_STORE"] = env.get("ATTACHMENT_STORE") or "local"
    for name in S3_SETTINGS:
        cfg[name] = env.get(name) or ""
    cfg["S3_REGION"] = cfg["S3_REGION"] or "us-east-1"
    cfg["S3_ADDRESSING_STYLE"] = cfg["S3_ADDRESSING_STYLE"] or "path"
    check_storage(cfg)
    for name in ("INVITE_TTL_HOURS", "WECHAT_BIND_TOKEN_SECONDS", "MEMBER_IMPORT_MAX_ROWS",
                 "MEMBER_IMPORT_MAX_BYTES", "NOTIFY_MAX_ATTEMPTS", "NOTIFY_BACKOFF_SECONDS",
                 "NOTIFY_LEASE_SECONDS", "WECHAT_TOKEN_MARGIN_SECONDS"):
        if env.get(name):
            cfg[name] = _int_env(env, name, 0)
    if profile == "production" and cfg["DISCLOSURE_MIN_DAYS"] < 7:
        raise ConfigError("DISCLOSURE_MIN_DAYS may not be below 7 in production (公示期)")
    if cfg["WECHAT_MINIPROGRAM_STATE"] not in ("formal", "trial", "developer"):
        raise ConfigError("WECHAT_MINIPROGRAM_STATE must be formal, trial or developer")
    if cfg["DISCLOSURE_MIN_DAYS"] < 0:
        raise ConfigError("DISCLOSURE_MIN_DAYS may not be negative")
    return cfg


def check_storage(cfg) -> None:
    """Refuse a file store that could not work: an unknown kind, or an s3 store without its
    bucket or keys (else the first upload, not the start, would say so)."""
    kind = cfg.get("ATTACHMENT_STORE") or "local"
    if kind not in ATTACHMENT_STORES:
        raise ConfigError(f"ATTACHMENT_STORE must be one of {', '.join(ATTACHMENT_STORES)}, "
                          f"got {kind!r}")
    if kind != "s3":
        return
    missing = [name for name in S3_REQUIRED if not cfg.get(name)]
    if missing:
        raise ConfigError(f"ATTACHMENT_STORE=s3 needs {', '.join(missing)}")
    endpoint = cfg.get("S3_ENDPOINT_URL") or ""
    parts = urlsplit(endpoint)
    if endpoint and (parts.scheme not in ("http", "https") or not parts.netloc
                     or "@" in parts.netloc):
        raise ConfigError(f"S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
    style = cfg.get("S3_ADDRESSING_STYLE") or "path"
    if style not in S3_ADDRESSING_STYLES:
        raise ConfigError(f"S3_ADDRESSING_STYLE must be one of "
                          f"{', '.join(S3_ADDRESSING_STYLES)}, got {style!r}")


def check_production_secrets(cfg: dict) -> None:
    """Refuse to run production with a secret that is public or too short to be safe."""
    if cfg["COOP_ENV"] != "production":
        return
    for name, dev_value in (("SECRET_KEY", DEV_SECRET), ("JWT_SECRET", DEV_SECRET),
                            ("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY)):
        value = cfg.get(name) or ""
        if value == dev_value:
            raise ConfigError(f"{name} is the development default; set a secret of your own")
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
    if cfg["RATELIMIT_ENABLED"] and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # In memory, every gunicorn worker (and every server) counts on its own: the limits
        # on login and invitation codes would be multiplied by the number of processes.
        raise ConfigError("RATELIMIT_STORAGE_URI must be shared storage in production "
                          "(redis://…), not memory://")
    if not cfg.get("PUBLIC_BASE_URL"):
        raise ConfigError("PUBLIC_BASE_URL must be set in production (https://your.domain): "
                          "public links are built on it, not on the request's Host header")
    if cfg["WECHAT_SECRET"] == "wx-dev-secret":
        raise ConfigError("WECHAT_SECRET is the development default; set the mini-program's secret")
