"""HTTP routes of the distribution capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("distribution", __name__, url_prefix="/api/v1", description="年度盈余分配")
