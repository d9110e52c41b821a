"""Notifications: the inbox and WeChat outbox, subscriptions and the shared access token.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import coop.dbtypes

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('notifications',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('due_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('read_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('wechat_status', sa.String(length=16), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('claimed_until', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('errcode', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('sent_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_due', ['user_id', 'due_at'], unique=False)
        batch_op.create_index('ix_notifications_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_notifications_wechat_due', ['wechat_status', 'next_attempt_at'], unique=False)

    op.create_table('wechat_subscriptions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('template_key', sa.String(length=32), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('accepted_total', sa.Integer(), nullable=False),
    sa.Column('last_answer', sa.String(length=8), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_subscriptions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_subscriptions')),
    sa.UniqueConstraint('user_id', 'template_key', name=op.f('uq_wechat_subscriptions_user_id_template_key'))
    )
    op.create_table('wechat_access_tokens',
    sa.Column('appid', sa.String(length=64), nullable=False),
    sa.Column('token_enc', sa.Text(), nullable=True),
    sa.Column('expires_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('renew_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('fetched_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('fetch_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('appid', name=op.f('pk_wechat_access_tokens'))
    )


def downgrade():
    # Dropping a table drops its indexes; dropping ix_notifications_user_due first would
    # be refused on MariaDB (the user_id foreign key needs it).
    op.drop_table('wechat_access_tokens')
    op.drop_table('wechat_subscriptions')
    op.drop_table('notifications')
