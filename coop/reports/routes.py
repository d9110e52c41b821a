"""HTTP routes of the reports capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="报表与个人查询")
