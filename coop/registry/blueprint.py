"""The registry's API blueprint, on its own: routes.py, board_routes.py and member_routes.py
each add their views to it, and none of them imports another."""
from coop.api import Blueprint

blp = Blueprint("registry", __name__, url_prefix="/api/v1", description="合作社与成员")
