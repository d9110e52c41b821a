"""The city: cities, counties under a city, effective dates of status changes, zone sizes.

Data moved (tests/integration/test_migrations.py checks it):
* every cooperative status change gets `effective_on` = the day (China's) it was
  recorded, which is when the first wave took it to have happened;
* no county is under a city and every county keeps zones of 3–5 villages (no settings
  row: the defaults).

Revision ID: 0005
Revises: 0004
"""
from datetime import datetime, timedelta

from alembic import op
import sqlalchemy as sa

import coop.dbtypes

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The id type of the models (coop/dbtypes.py): BIGINT, INTEGER on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
BATCH = 1000


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _china_date(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value.replace(tzinfo=None) + timedelta(hours=8)).date()


def upgrade():
    op.create_table(
        'cities',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('created_at', coop.dbtypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cities')),
        sa.UniqueConstraint('code', name=op.f('uq_cities_code')))
    if _sqlite():
        # Inline: batch mode would rebuild `counties`, and dropping the old table trips
        # the foreign keys of every table that refers to it.
        op.execute("ALTER TABLE counties ADD COLUMN city_id INTEGER "
                   "CONSTRAINT fk_counties_city_id_cities REFERENCES cities (id)")
    else:
        with op.batch_alter_table('counties', schema=None) as batch_op:
            batch_op.add_column(sa.Column('city_id', ID, nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_counties_city_id_cities'), 'cities',
                                        ['city_id'], ['id'])
    op.create_index(op.f('ix_counties_city_id'), 'counties', ['city_id'], unique=False)
    op.create_table(
        'county_settings',
        sa.Column('county_id', ID, nullable=False),
        sa.Column('zone_min_villages', sa.Integer(), nullable=False),
        sa.Column('zone_max_villages', sa.Integer(), nullable=False),
        sa.Column('updated_at', coop.dbtypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint('zone_min_villages >= 1 AND zone_min_villages <= zone_max_villages',
                           name=op.f('ck_county_settings_zone_size')),
        sa.ForeignKeyConstraint(['county_id'], ['counties.id'],
                                name=op.f('fk_county_settings_county_id_counties')),
        sa.PrimaryKeyConstraint('county_id', name=op.f('pk_county_settings')))

    with op.batch_alter_table('cooperative_status_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, changed_at FROM cooperative_status_changes ORDER BY id")).all()
    for start in range(0, len(rows), BATCH):
        conn.execute(sa.text("UPDATE cooperative_status_changes SET effective_on = :day "
                             "WHERE id = :id"),
                     [{"id": row[0], "day": _china_date(row[1])}
                      for row in rows[start:start + BATCH]])
    with op.batch_alter_table('cooperative_status_changes', schema=None) as batch_op:
        batch_op.alter_column('effective_on', existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table('cooperative_status_changes', schema=None) as batch_op:
        batch_op.drop_column('effective_on')
    op.drop_table('county_settings')
    if _sqlite():
        op.drop_index(op.f('ix_counties_city_id'), table_name='counties')
        op.execute("ALTER TABLE counties DROP COLUMN city_id")   # SQLite ≥ 3.35
    else:
        # MariaDB keeps the index while the foreign key needs it: the key goes first.
        op.drop_constraint(op.f('fk_counties_city_id_cities'), 'counties', type_='foreignkey')
        op.drop_index(op.f('ix_counties_city_id'), table_name='counties')
        op.drop_column('counties', 'city_id')
    op.drop_table('cities')
