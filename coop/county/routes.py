"""HTTP routes of the county capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("county", __name__, url_prefix="/api/v1", description="县级考核、奖励与补助")
