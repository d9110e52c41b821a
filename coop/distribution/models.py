"""Tables of the distribution capability."""
from coop.extensions import db  # noqa: F401
