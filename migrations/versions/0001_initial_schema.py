"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 18:33:41.106059

"""
from alembic import op
import sqlalchemy as sa

import coop.dbtypes


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The single head row the audit chain locks to append (coop/audit.py).
    op.bulk_insert(audit_head, [{'id': 1, 'seq': 0, 'hash': '0' * 64}])
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_log_seq'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_object', ['object_type', 'object_id'], unique=False)

    op.create_table('counties',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counties')),
    sa.UniqueConstraint('code', name=op.f('uq_counties_code'))
    )
    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_keys_user_id_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_superuser', sa.Boolean(), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('phone', name=op.f('uq_users_phone'))
    )
    op.create_table('programs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('committed_fen', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('committed_fen >= 0 AND disbursed_fen >= 0 AND committed_fen + disbursed_fen <= budget_fen', name=op.f('ck_programs_ck_programs_within_budget')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_programs_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programs'))
    )
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programs_county_id'), ['county_id'], unique=False)

    op.create_table('role_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('scope_type', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.BigInteger(), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_assignments')),
    sa.UniqueConstraint('user_id', 'role', 'scope_type', 'scope_id', 'department', name=op.f('uq_role_assignments_user_id_role_scope_type_scope_id_department'))
    )
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_role_assignments_scope', ['scope_type', 'scope_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('token_families',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_token_families_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token_families'))
    )
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_families_user_id'), ['user_id'], unique=False)

    op.create_table('towns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=9), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_towns_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_towns')),
    sa.UniqueConstraint('county_id', 'name', name=op.f('uq_towns_county_id_name'))
    )
    with op.batch_alter_table('towns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_towns_county_id'), ['county_id'], unique=False)

    op.create_table('wechat_bindings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('unionid', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_bindings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_bindings')),
    sa.UniqueConstraint('openid', name=op.f('uq_wechat_bindings_openid'))
    )
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_bindings_unionid'), ['unionid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wechat_bindings_user_id'), ['user_id'], unique=False)

    op.create_table('refresh_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('family_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('spent_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['token_families.id'], name=op.f('fk_refresh_tokens_family_id_token_families')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash'))
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_family_id'), ['family_id'], unique=False)

    op.create_table('reward_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('excellent_award_fen', sa.BigInteger(), nullable=False),
    sa.Column('secretary_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('managers_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('excellent_min_score', sa.Integer(), nullable=False),
    sa.Column('good_min_score', sa.Integer(), nullable=False),
    sa.Column('pass_min_score', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_reward_rules_county_id_counties')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_reward_rules_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_rules')),
    sa.UniqueConstraint('county_id', 'year', name=op.f('uq_reward_rules_county_id_year'))
    )
    op.create_table('villages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('town_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('party_secretary_name', sa.String(length=64), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_villages_county_id_counties')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_villages_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_villages')),
    sa.UniqueConstraint('code', name=op.f('uq_villages_code'))
    )
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_villages_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_villages_town_id'), ['town_id'], unique=False)

    op.create_table('zones',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('town_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('secretary_name', sa.String(length=64), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_zones_county_id_counties')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_zones_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones'))
    )
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zones_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_zones_town_id'), ['town_id'], unique=False)

    op.create_table('collective_income_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('village_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_collective_income_items_county_id_counties')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_collective_income_items_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collective_income_items')),
    sa.UniqueConstraint('village_id', 'year', 'source', 'source_id', name=op.f('uq_collective_income_items_village_id_year_source_source_id'))
    )
    with op.batch_alter_table('collective_income_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collective_income_items_county_id'), ['county_id'], unique=False)
        batch_op.create_index('ix_collective_income_village_year', ['village_id', 'year'], unique=False)

    op.create_table('cooperatives',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('town_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('village_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('zone_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('founded_on', sa.Date(), nullable=False),
    sa.Column('industry', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('distribution_method', sa.String(length=16), nullable=False),
    sa.Column('land_rate_fen_per_mu', sa.BigInteger(), nullable=False),
    sa.Column('labour_ticket_rate_fen', sa.BigInteger(), nullable=False),
    sa.Column('single_member_cap_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('collective_cap_applies', sa.Boolean(), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_cooperatives_county_id_counties')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['cooperatives.id'], name=op.f('fk_cooperatives_merged_into_id_cooperatives')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_cooperatives_town_id_towns')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_cooperatives_village_id_villages')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_cooperatives_zone_id_zones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperatives')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_cooperatives_credit_code'))
    )
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cooperatives_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperatives_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperatives_town_id'), ['town_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperatives_village_id'), ['village_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperatives_zone_id'), ['zone_id'], unique=False)

    op.create_table('zone_villages',
    sa.Column('zone_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('village_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_zone_villages_village_id_villages')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_zone_villages_zone_id_zones')),
    sa.PrimaryKeyConstraint('zone_id', 'village_id', name=op.f('pk_zone_villages')),
    sa.UniqueConstraint('village_id', name=op.f('uq_zone_villages_village_id'))
    )
    op.create_table('annual_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('revenue_fen', sa.BigInteger(), nullable=False),
    sa.Column('cost_fen', sa.BigInteger(), nullable=False),
    sa.Column('prior_loss_fen', sa.BigInteger(), nullable=False),
    sa.Column('wages_paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('labour_days', sa.BigInteger(), nullable=False),
    sa.Column('fiscal_subsidy_fen', sa.BigInteger(), nullable=False),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_annual_accounts_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_annual_accounts_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_accounts')),
    sa.UniqueConstraint('cooperative_id', 'year', name=op.f('uq_annual_accounts_cooperative_id_year'))
    )
    with op.batch_alter_table('annual_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_accounts_county_id'), ['county_id'], unique=False)

    op.create_table('cooperative_officers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('village_committee_member', sa.Boolean(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_card_enc', sa.Text(), nullable=False),
    sa.Column('id_card_hash', sa.String(length=64), nullable=False),
    sa.Column('id_card_masked', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_cooperative_officers_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_cooperative_officers_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperative_officers'))
    )
    with op.batch_alter_table('cooperative_officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cooperative_officers_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperative_officers_county_id'), ['county_id'], unique=False)

    op.create_table('cooperative_status_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('changed_by', sa.BigInteger(), nullable=True),
    sa.Column('changed_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_cooperative_status_changes_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_cooperative_status_changes_county_id_counties')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['cooperatives.id'], name=op.f('fk_cooperative_status_changes_merged_into_id_cooperatives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperative_status_changes'))
    )
    with op.batch_alter_table('cooperative_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cooperative_status_changes_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperative_status_changes_county_id'), ['county_id'], unique=False)

    op.create_table('distribution_plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('live_year', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reserve_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('patronage_rate', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('revenue_fen', sa.BigInteger(), nullable=False),
    sa.Column('cost_fen', sa.BigInteger(), nullable=False),
    sa.Column('prior_loss_fen', sa.BigInteger(), nullable=False),
    sa.Column('surplus_fen', sa.BigInteger(), nullable=False),
    sa.Column('loss_covered_fen', sa.BigInteger(), nullable=False),
    sa.Column('reserve_fen', sa.BigInteger(), nullable=False),
    sa.Column('distributable_fen', sa.BigInteger(), nullable=False),
    sa.Column('patronage_pool_fen', sa.BigInteger(), nullable=False),
    sa.Column('share_pool_fen', sa.BigInteger(), nullable=False),
    sa.Column('fiscal_subsidy_fen', sa.BigInteger(), nullable=False),
    sa.Column('trade_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('share_basis_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('converted_fen', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('basis_digest', sa.String(length=64), nullable=False),
    sa.Column('assembly_held_on', sa.Date(), nullable=True),
    sa.Column('basic_votes_total', sa.Integer(), nullable=True),
    sa.Column('extra_votes_total', sa.Integer(), nullable=True),
    sa.Column('votes_for', sa.Integer(), nullable=True),
    sa.Column('votes_against', sa.Integer(), nullable=True),
    sa.Column('abstentions', sa.Integer(), nullable=True),
    sa.Column('public_token', sa.String(length=64), nullable=True),
    sa.Column('notice_days', sa.Integer(), nullable=True),
    sa.Column('notice_starts_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('notice_ends_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('decided_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('paid_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_distribution_plans_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_distribution_plans_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_plans')),
    sa.UniqueConstraint('cooperative_id', 'live_year', name=op.f('uq_distribution_plans_cooperative_id_live_year')),
    sa.UniqueConstraint('public_token', name=op.f('uq_distribution_plans_public_token'))
    )
    with op.batch_alter_table('distribution_plans', schema=None) as batch_op:
        batch_op.create_index('ix_distribution_plans_coop_year', ['cooperative_id', 'year', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_plans_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_plans_county_id'), ['county_id'], unique=False)

    op.create_table('evaluation_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_evaluation_scores_ck_evaluation_score_range')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_evaluation_scores_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_evaluation_scores_county_id_counties')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_evaluation_scores_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_scores')),
    sa.UniqueConstraint('cooperative_id', 'year', 'department', name=op.f('uq_evaluation_scores_cooperative_id_year_department'))
    )
    with op.batch_alter_table('evaluation_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_scores_county_id'), ['county_id'], unique=False)
        batch_op.create_index('ix_evaluation_scores_county_year', ['county_id', 'year'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('member_type', sa.String(length=16), nullable=False),
    sa.Column('id_card_enc', sa.Text(), nullable=False),
    sa.Column('id_card_hash', sa.String(length=64), nullable=False),
    sa.Column('id_card_masked', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('leave_reason', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bank_name', sa.String(length=64), nullable=True),
    sa.Column('bank_account_enc', sa.Text(), nullable=True),
    sa.Column('bank_account_hash', sa.String(length=64), nullable=True),
    sa.Column('bank_account_masked', sa.String(length=40), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('collective_of', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_members_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_members_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('collective_of', name=op.f('uq_members_collective_of')),
    sa.UniqueConstraint('cooperative_id', 'id_card_hash', name=op.f('uq_members_cooperative_id_id_card_hash'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_coop_name', ['cooperative_id', 'name'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_county_id'), ['county_id'], unique=False)

    op.create_table('payout_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_payout_batches_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_payout_batches_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches')),
    sa.UniqueConstraint('source', 'source_id', 'sequence', name=op.f('uq_payout_batches_source_source_id_sequence'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batches_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_batches_county_id'), ['county_id'], unique=False)

    op.create_table('professional_managers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=False),
    sa.Column('contract_end', sa.Date(), nullable=False),
    sa.Column('base_pay_fen_per_year', sa.BigInteger(), nullable=False),
    sa.Column('bonus_rate', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_card_enc', sa.Text(), nullable=False),
    sa.Column('id_card_hash', sa.String(length=64), nullable=False),
    sa.Column('id_card_masked', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_professional_managers_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_professional_managers_county_id_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_professional_managers'))
    )
    with op.batch_alter_table('professional_managers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_professional_managers_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_professional_managers_county_id'), ['county_id'], unique=False)
        batch_op.create_index('ix_professional_managers_person', ['cooperative_id', 'id_card_hash'], unique=False)

    op.create_table('share_register_heads',
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_line_no', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_share_register_heads_cooperative_id_cooperatives')),
    sa.PrimaryKeyConstraint('cooperative_id', name=op.f('pk_share_register_heads'))
    )
    op.create_table('distribution_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('is_collective', sa.Boolean(), nullable=False),
    sa.Column('capital_fen', sa.BigInteger(), nullable=False),
    sa.Column('trade_fen', sa.BigInteger(), nullable=False),
    sa.Column('share_basis_fen', sa.BigInteger(), nullable=False),
    sa.Column('subsidy_share_fen', sa.BigInteger(), nullable=False),
    sa.Column('reserve_share_fen', sa.BigInteger(), nullable=False),
    sa.Column('patronage_fen', sa.BigInteger(), nullable=False),
    sa.Column('share_fen', sa.BigInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('convert_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_distribution_lines_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_distribution_lines_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_distribution_lines_member_id_members')),
    sa.ForeignKeyConstraint(['plan_id'], ['distribution_plans.id'], name=op.f('fk_distribution_lines_plan_id_distribution_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_lines')),
    sa.UniqueConstraint('plan_id', 'member_id', name=op.f('uq_distribution_lines_plan_id_member_id'))
    )
    with op.batch_alter_table('distribution_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_lines_member_id'), ['member_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('expires_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('used_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('revoked_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (member_id IS NULL)', name=op.f('ck_invitations_one_target')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_invitations_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_invitations_county_id_counties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invitations_created_by_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_invitations_member_id_members')),
    sa.ForeignKeyConstraint(['used_by_id'], ['users.id'], name=op.f('fk_invitations_used_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invitations_code_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('payout_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('town_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('payee_type', sa.String(length=16), nullable=False),
    sa.Column('payee_name', sa.String(length=128), nullable=False),
    sa.Column('bank_name', sa.String(length=64), nullable=True),
    sa.Column('bank_account_enc', sa.Text(), nullable=True),
    sa.Column('bank_account_masked', sa.String(length=40), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('is_collective', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('bank_ref', sa.String(length=64), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reissue_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_lines_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_payout_lines_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_payout_lines_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_payout_lines_member_id_members')),
    sa.ForeignKeyConstraint(['reissue_of_id'], ['payout_lines.id'], name=op.f('fk_payout_lines_reissue_of_id_payout_lines')),
    sa.ForeignKeyConstraint(['reverses_id'], ['payout_lines.id'], name=op.f('fk_payout_lines_reverses_id_payout_lines')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_payout_lines_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_lines')),
    sa.UniqueConstraint('reissue_of_id', name=op.f('uq_payout_lines_reissue_of_id')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_payout_lines_reverses_id'))
    )
    with op.batch_alter_table('payout_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_lines_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_lines_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_lines_county_id'), ['county_id'], unique=False)
        batch_op.create_index('ix_payout_lines_county_year', ['county_id', 'year'], unique=False)
        batch_op.create_index('ix_payout_lines_county_year_source', ['county_id', 'year', 'source', 'status', 'reverses_id', 'amount_fen'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_lines_member_id'), ['member_id'], unique=False)

    op.create_table('reward_rounds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('live_year', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('program_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('excellent_award_fen', sa.BigInteger(), nullable=False),
    sa.Column('secretary_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('managers_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decided_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('payout_batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_reward_rounds_county_id_counties')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_reward_rounds_created_by_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_reward_rounds_decided_by_users')),
    sa.ForeignKeyConstraint(['payout_batch_id'], ['payout_batches.id'], name=op.f('fk_reward_rounds_payout_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_reward_rounds_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_rounds')),
    sa.UniqueConstraint('county_id', 'live_year', name='uq_reward_rounds_live_year')
    )
    with op.batch_alter_table('reward_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_rounds_county_id'), ['county_id'], unique=False)

    op.create_table('share_balances',
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cash_fen', sa.BigInteger(), nullable=False),
    sa.Column('land_fen', sa.BigInteger(), nullable=False),
    sa.Column('collective_asset_fen', sa.BigInteger(), nullable=False),
    sa.Column('fiscal_subsidy_fen', sa.BigInteger(), nullable=False),
    sa.Column('labour_fen', sa.BigInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_share_balances_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_share_balances_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_share_balances_member_id_members')),
    sa.PrimaryKeyConstraint('cooperative_id', 'member_id', name=op.f('pk_share_balances'))
    )
    op.create_table('share_operations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('to_member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('area_mu', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('tickets', sa.Integer(), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('distribution_id', sa.BigInteger(), nullable=True),
    sa.Column('reject_reason', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_share_operations_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_share_operations_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_share_operations_member_id_members')),
    sa.ForeignKeyConstraint(['reverses_id'], ['share_operations.id'], name=op.f('fk_share_operations_reverses_id_share_operations')),
    sa.ForeignKeyConstraint(['to_member_id'], ['members.id'], name=op.f('fk_share_operations_to_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_operations'))
    )
    with op.batch_alter_table('share_operations', schema=None) as batch_op:
        batch_op.create_index('ix_share_operations_coop_status', ['cooperative_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_operations_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_operations_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_operations_member_id'), ['member_id'], unique=False)

    op.create_table('subsidy_applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('program_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('approved_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('approved_at', coop.dbtypes.UTCDateTime(), nullable=True),
    sa.Column('rejected_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reject_reason', sa.String(length=255), nullable=True),
    sa.Column('disbursed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('bank_ref', sa.String(length=64), nullable=True),
    sa.Column('payout_batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_subsidy_applications_ck_subsidy_amount_positive')),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_subsidy_applications_approved_by_users')),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_subsidy_applications_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_subsidy_applications_county_id_counties')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_subsidy_applications_created_by_users')),
    sa.ForeignKeyConstraint(['disbursed_by'], ['users.id'], name=op.f('fk_subsidy_applications_disbursed_by_users')),
    sa.ForeignKeyConstraint(['payout_batch_id'], ['payout_batches.id'], name=op.f('fk_subsidy_applications_payout_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_subsidy_applications_program_id_programs')),
    sa.ForeignKeyConstraint(['rejected_by'], ['users.id'], name=op.f('fk_subsidy_applications_rejected_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidy_applications'))
    )
    with op.batch_alter_table('subsidy_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subsidy_applications_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index('ix_subsidy_applications_county_status', ['county_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subsidy_applications_program_id'), ['program_id'], unique=False)

    op.create_table('trades',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_trades_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_trades_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_trades_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trades'))
    )
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.create_index('ix_trades_coop_year_member', ['cooperative_id', 'year', 'member_id', 'amount_fen'], unique=False)
        batch_op.create_index(batch_op.f('ix_trades_county_id'), ['county_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_trades_member_id'), ['member_id'], unique=False)

    op.create_table('reward_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('village_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payee_key', sa.String(length=48), nullable=False),
    sa.Column('payee_type', sa.String(length=16), nullable=False),
    sa.Column('payee_name', sa.String(length=128), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('income_prev_fen', sa.BigInteger(), nullable=True),
    sa.Column('income_fen', sa.BigInteger(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bank_name', sa.String(length=64), nullable=True),
    sa.Column('bank_account_enc', sa.Text(), nullable=True),
    sa.Column('bank_account_masked', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_reward_lines_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_reward_lines_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_reward_lines_member_id_members')),
    sa.ForeignKeyConstraint(['round_id'], ['reward_rounds.id'], name=op.f('fk_reward_lines_round_id_reward_rounds')),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_reward_lines_village_id_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_lines')),
    sa.UniqueConstraint('round_id', 'payee_key', name=op.f('uq_reward_lines_round_id_payee_key'))
    )
    with op.batch_alter_table('reward_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_lines_cooperative_id'), ['cooperative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_lines_round_id'), ['round_id'], unique=False)

    op.create_table('share_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('county_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cooperative_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('operation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('delta_fen', sa.BigInteger(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_share_lines_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_share_lines_county_id_counties')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_share_lines_member_id_members')),
    sa.ForeignKeyConstraint(['operation_id'], ['share_operations.id'], name=op.f('fk_share_lines_operation_id_share_operations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_lines')),
    sa.UniqueConstraint('cooperative_id', 'line_no', name=op.f('uq_share_lines_cooperative_id_line_no'))
    )
    with op.batch_alter_table('share_lines', schema=None) as batch_op:
        batch_op.create_index('ix_share_lines_coop_date', ['cooperative_id', 'effective_on', 'member_id', 'kind', 'delta_fen'], unique=False)
        batch_op.create_index('ix_share_lines_coop_member', ['cooperative_id', 'member_id', 'effective_on', 'kind', 'delta_fen'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_lines_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_lines_operation_id'), ['operation_id'], unique=False)



def downgrade():
    # Tables only: MySQL will not drop an index a foreign key needs, and a dropped table
    # takes its indexes with it.

    op.drop_table('share_lines')

    op.drop_table('reward_lines')

    op.drop_table('trades')

    op.drop_table('subsidy_applications')

    op.drop_table('share_operations')
    op.drop_table('share_balances')

    op.drop_table('reward_rounds')

    op.drop_table('payout_lines')

    op.drop_table('invitations')

    op.drop_table('distribution_lines')
    op.drop_table('share_register_heads')

    op.drop_table('professional_managers')

    op.drop_table('payout_batches')

    op.drop_table('members')

    op.drop_table('evaluation_scores')

    op.drop_table('distribution_plans')

    op.drop_table('cooperative_status_changes')

    op.drop_table('cooperative_officers')

    op.drop_table('annual_accounts')
    op.drop_table('zone_villages')

    op.drop_table('cooperatives')

    op.drop_table('collective_income_items')

    op.drop_table('zones')

    op.drop_table('villages')
    op.drop_table('reward_rules')

    op.drop_table('refresh_tokens')

    op.drop_table('wechat_bindings')

    op.drop_table('towns')

    op.drop_table('token_families')

    op.drop_table('role_assignments')

    op.drop_table('programs')
    op.drop_table('users')

    op.drop_table('idempotency_keys')
    op.drop_table('counties')

    op.drop_table('audit_log')
    op.drop_table('audit_head')
