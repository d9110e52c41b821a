"""HTTP routes of the auth capability: parse, call the service, serialize."""
from flask_smorest import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与用户")
