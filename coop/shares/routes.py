"""HTTP routes of the shares capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("shares", __name__, url_prefix="/api/v1", description="股权登记")
