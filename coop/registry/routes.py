"""HTTP routes of the registry capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("registry", __name__, url_prefix="/api/v1", description="合作社与成员")
