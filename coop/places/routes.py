"""HTTP routes of the places capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("places", __name__, url_prefix="/api/v1", description="县、乡镇、村与片区")
