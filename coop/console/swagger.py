"""Swagger UI served by the app itself (CONTRACT §11): county networks are often closed, and
a page that loads its scripts from a CDN is blank there.

flask-smorest renders /api/v1/docs and takes the assets' base URL from
OPENAPI_SWAGGER_UI_URL (config.py), which points here: the files of the pinned
`swagger-ui-bundle` package, served from its install directory (nothing vendored twice).
"""
from __future__ import annotations

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import NotFound

# Only what the docs page loads: no listing of the package directory.
ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
          "favicon-32x32.png", "favicon-16x16.png"}

bp = Blueprint("swagger_ui_assets", __name__)


@bp.route("/api/v1/docs/assets/<path:filename>")
def asset(filename: str):
    if filename not in ASSETS:
        raise NotFound()
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
