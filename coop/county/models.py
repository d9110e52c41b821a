"""Tables of the county capability."""
from coop.extensions import db  # noqa: F401
