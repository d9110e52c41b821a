"""Imports every capability's models so the metadata (and Alembic) sees all tables."""
from auth.models import *  # noqa: F401,F403
from coop.audit import AuditEntry, AuditHead  # noqa: F401
from coop.idempotency import IdempotencyRecord  # noqa: F401
from coop.places.models import *  # noqa: F401,F403
from coop.places.cities import City  # noqa: F401
from coop.places.settings import CountySettings  # noqa: F401
from coop.registry.models import *  # noqa: F401,F403
from coop.shares.models import *  # noqa: F401,F403
from coop.distribution.models import *  # noqa: F401,F403
from coop.payouts.models import *  # noqa: F401,F403
from coop.county.models import *  # noqa: F401,F403
from coop.attachments.models import *  # noqa: F401,F403
from coop.notifications.models import *  # noqa: F401,F403
