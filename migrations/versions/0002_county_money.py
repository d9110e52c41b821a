"""County money end to end: village secretaries as dated terms, payee bank accounts, held payout lines, program end year and per-recipient cap, reward rules' award_once and manager_roles.

Data moved (tests/integration/test_migrations.py checks each):
* every village's `party_secretary_name` becomes an open term (end_on NULL) starting on
  1 January of the earliest year the village has collective income for, or on the day
  (China's) the village was created if that is earlier — so the years already entered
  have a secretary in office, as they had one in the first wave;
* collective income rows of source 'distribution' (the first wave added the collective
  member's dividend to the village income) are kept as history; the code counts only
  the 'entered' figure from now on and shows dividends beside it (nothing is deleted);
* pending payout lines without a bank account become 'held' (the bank file never had a
  usable row for them);
* existing reward lines get the reason their payee qualified; existing reward rules get
  award_once true and the default manager roles; approved or disbursed subsidy
  applications were granted what they asked for.

Revision ID: 0002
Revises: 0001
"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa

import coop.dbtypes

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# The id type of the models (coop/dbtypes.py): BIGINT, INTEGER on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
BANK_COLUMNS = ('bank_name', 'bank_account_enc', 'bank_account_hash', 'bank_account_masked')


def _bank_columns():
    return [sa.Column('bank_name', sa.String(length=64), nullable=True),
            sa.Column('bank_account_enc', sa.Text(), nullable=True),
            sa.Column('bank_account_hash', sa.String(length=64), nullable=True),
            sa.Column('bank_account_masked', sa.String(length=40), nullable=True)]


def _china_date(value) -> date:
    if isinstance(value, str):
        from datetime import datetime
        value = datetime.fromisoformat(value)
    return (value + timedelta(hours=8)).date()


def upgrade():
    op.create_table(
        'village_secretaries',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('county_id', ID, nullable=False),
        sa.Column('village_id', ID, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('id_card_enc', sa.Text(), nullable=True),
        sa.Column('id_card_hash', sa.String(length=64), nullable=True),
        sa.Column('id_card_masked', sa.String(length=32), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('start_on', sa.Date(), nullable=False),
        sa.Column('end_on', sa.Date(), nullable=True),
        *_bank_columns(),
        sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['county_id'], ['counties.id'],
                                name=op.f('fk_village_secretaries_county_id_counties')),
        sa.ForeignKeyConstraint(['village_id'], ['villages.id'],
                                name=op.f('fk_village_secretaries_village_id_villages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_village_secretaries')))
    with op.batch_alter_table('village_secretaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_village_secretaries_county_id'), ['county_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_village_secretaries_village_id'), ['village_id'],
                              unique=False)

    for table in ('cooperatives', 'cooperative_officers', 'professional_managers'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _bank_columns():
                batch_op.add_column(column)

    with op.batch_alter_table('reward_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('award_once', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('manager_roles', sa.String(length=255), nullable=False,
                                      server_default='chair,director,professional_manager'))
    with op.batch_alter_table('reward_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=64), nullable=True))
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('per_recipient_cap_fen', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('subsidy_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_amount_fen', sa.BigInteger(), nullable=True))

    _move_data()


def _move_data():
    conn = op.get_bind()
    villages = conn.execute(sa.text(
        "SELECT id, county_id, party_secretary_name, created_at FROM villages "
        "WHERE party_secretary_name IS NOT NULL AND party_secretary_name <> ''")).all()
    first_income = dict(conn.execute(sa.text(
        "SELECT village_id, MIN(year) FROM collective_income_items GROUP BY village_id")).all())
    secretaries = sa.table('village_secretaries', sa.column('county_id'),
                           sa.column('village_id'), sa.column('name'),
                           sa.column('start_on', sa.Date()), sa.column('end_on', sa.Date()),
                           sa.column('created_at', coop.dbtypes.UTCDateTime()))
    from coop.dbtypes import utcnow
    rows = []
    for village_id, county_id, name, created in villages:
        start = _china_date(created)
        if village_id in first_income:
            start = min(start, date(int(first_income[village_id]), 1, 1))
        rows.append({'county_id': county_id, 'village_id': village_id, 'name': name,
                     'start_on': start, 'end_on': None, 'created_at': utcnow()})
    if rows:
        op.bulk_insert(secretaries, rows)
    conn.execute(sa.text(
        "UPDATE payout_lines SET status = 'held' "
        "WHERE status = 'pending' AND bank_account_enc IS NULL AND reverses_id IS NULL"))
    for kind, reason in (('award', '考核优秀'), ('secretary', '村党组织书记'),
                         ('manager', '合作社管理人员')):
        conn.execute(sa.text("UPDATE reward_lines SET reason = :reason WHERE kind = :kind"),
                     {'reason': reason, 'kind': kind})
    conn.execute(sa.text(
        "UPDATE subsidy_applications SET approved_amount_fen = amount_fen "
        "WHERE status IN ('approved', 'disbursed')"))


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE payout_lines SET status = 'pending' WHERE status = 'held'"))
    with op.batch_alter_table('subsidy_applications', schema=None) as batch_op:
        batch_op.drop_column('approved_amount_fen')
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_column('per_recipient_cap_fen')
        batch_op.drop_column('end_year')
    with op.batch_alter_table('reward_lines', schema=None) as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('reward_rules', schema=None) as batch_op:
        batch_op.drop_column('manager_roles')
        batch_op.drop_column('award_once')
    for table in ('professional_managers', 'cooperative_officers', 'cooperatives'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(BANK_COLUMNS):
                batch_op.drop_column(column)
    # The table's indexes go with it (MariaDB refuses to drop an index a foreign key needs).
    op.drop_table('village_secretaries')
