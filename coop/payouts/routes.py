"""HTTP routes of the payouts capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("payouts", __name__, url_prefix="/api/v1", description="发放批次")
