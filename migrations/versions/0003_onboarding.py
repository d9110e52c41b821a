"""Onboarding and documents: attachments.

Files kept beside the object they prove (CONTRACT §13), named by their SHA-256 in the
store under ATTACHMENT_DIR. A new table only: no data moves.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

import coop.dbtypes

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The id type of the models (coop/dbtypes.py): BIGINT, INTEGER on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'attachments',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('county_id', ID, nullable=False),
        sa.Column('cooperative_id', ID, nullable=True),
        sa.Column('member_id', ID, nullable=True),
        sa.Column('object_type', sa.String(length=32), nullable=False),
        sa.Column('object_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('supersedes_id', ID, nullable=True),
        sa.Column('created_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'],
                                name=op.f('fk_attachments_cooperative_id_cooperatives')),
        sa.ForeignKeyConstraint(['county_id'], ['counties.id'],
                                name=op.f('fk_attachments_county_id_counties')),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_attachments_member_id_members')),
        sa.ForeignKeyConstraint(['supersedes_id'], ['attachments.id'],
                                name=op.f('fk_attachments_supersedes_id_attachments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
        sa.UniqueConstraint('supersedes_id', name=op.f('uq_attachments_supersedes_id')),
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_object', ['object_type', 'object_id', 'id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_county_id'), ['county_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_cooperative_id'), ['cooperative_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)


def downgrade():
    # Dropping the table drops its indexes; dropping an index a foreign key needs first
    # is refused by MariaDB (1553).
    op.drop_table('attachments')
