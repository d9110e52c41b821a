"""Audit chains: one hash chain per cooperative, county and user, and a root chain.

The single `audit_head` row serialized every audited write of the whole system (on a
Galera cluster, two cooperatives' managers on two nodes conflicted on it). Now
`audit_head` holds one row per chain, keyed by the chain's name, and every `audit_log`
row names its chain; `seq` counts within the chain (coop/audit.py).

Upgrade: the existing chain becomes the root chain `system`, unchanged: its rows keep their
sequence numbers and hashes (the root's hashes never include the chain's name), and its
head row is the old head row.

Downgrade: one chain again. The root's rows stay first with their hashes; the other
chains' rows follow in the order they were written (time, then chain and sequence),
renumbered and re-hashed in the one-chain form, so the previous release's `flask audit
verify` passes, and each folded chain is closed by an `audit.chain_fold` row at the end.
Those re-hashed rows are only as trustworthy as the database at the time
of the downgrade: take a backup (`flask backup`) first.

Revision ID: 0007
Revises: 0006
"""
import hashlib
import json
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import coop.dbtypes

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ROOT = "system"
GENESIS = "0" * 64


def _heads_table(pk_chain: bool):
    meta = sa.MetaData()
    if pk_chain:
        return sa.Table("audit_head", meta,
                        sa.Column("chain", coop.dbtypes.Ident(64), nullable=False),
                        sa.Column("seq", sa.BigInteger(), nullable=False),
                        sa.Column("hash", sa.String(length=64), nullable=False),
                        sa.PrimaryKeyConstraint("chain", name="pk_audit_head"))
    return sa.Table("audit_head", meta,
                    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("seq", sa.BigInteger(), nullable=False),
                    sa.Column("hash", sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint("id", name="pk_audit_head"))


def _replace_heads(pk_chain: bool, rows):
    op.drop_table("audit_head")
    table = _heads_table(pk_chain)
    table.create(op.get_bind())
    if rows:
        op.bulk_insert(table, rows)


def upgrade():
    bind = op.get_bind()
    old = bind.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    seq, digest = (old.seq, old.hash) if old else (0, GENESIS)
    _replace_heads(True, [{"chain": ROOT, "seq": seq, "hash": digest}])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("chain", coop.dbtypes.Ident(64), nullable=False,
                                   server_default=ROOT))
        batch.drop_constraint("uq_audit_log_seq", type_="unique")
        batch.create_unique_constraint("uq_audit_log_chain_seq", ["chain", "seq"])
    with op.batch_alter_table("audit_log") as batch:
        # Every writer names the chain; the default was only for the rows already there.
        batch.alter_column("chain", existing_type=coop.dbtypes.Ident(64),
                           existing_nullable=False, server_default=None)


def _old_hash(prev, row, seq):
    payload = json.dumps({
        "seq": seq, "at": row.at.isoformat(), "actor_id": row.actor_id,
        "action": row.action, "object_type": row.object_type, "object_id": row.object_id,
        "before": row.before, "after": row.after, "request_id": row.request_id,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + payload).encode("utf-8")).hexdigest()


def downgrade():
    bind = op.get_bind()
    log = sa.Table("audit_log", sa.MetaData(),
                   sa.Column("id", sa.BigInteger()), sa.Column("chain", sa.String(64)),
                   sa.Column("seq", sa.BigInteger()),
                   sa.Column("at", coop.dbtypes.UTCDateTime()),
                   sa.Column("actor_id", sa.BigInteger()), sa.Column("action", sa.String(64)),
                   sa.Column("object_type", sa.String(64)),
                   sa.Column("object_id", sa.String(64)), sa.Column("before", sa.Text()),
                   sa.Column("after", sa.Text()), sa.Column("request_id", sa.String(64)),
                   sa.Column("prev_hash", sa.String(64)), sa.Column("hash", sa.String(64)))
    root = bind.execute(sa.select(log.c.seq, log.c.hash).where(log.c.chain == ROOT)
                        .order_by(log.c.seq.desc()).limit(1)).first()
    seq, prev = (root.seq, root.hash) if root else (0, GENESIS)
    others = bind.execute(sa.select(log).where(log.c.chain != ROOT)
                          .order_by(log.c.at, log.c.chain, log.c.seq)).all()
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint("uq_audit_log_chain_seq", type_="unique")
    for row in others:
        seq += 1
        digest = _old_hash(prev, row, seq)
        bind.execute(log.update().where(log.c.id == row.id)
                     .values(seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    # Each folded chain is closed in the one chain, so that a later upgrade's index of
    # heads does not miss it (coop/audit.py CHAIN_FOLD).
    at = coop.dbtypes.utcnow()
    for chain in sorted({row.chain for row in others}):
        seq += 1
        fold = SimpleNamespace(at=at, actor_id=None, action="audit.chain_fold",
                               object_type="audit_chain", object_id=chain, before=None,
                               after=None, request_id=None)
        digest = _old_hash(prev, fold, seq)
        bind.execute(log.insert().values(chain=chain, seq=seq, prev_hash=prev, hash=digest,
                                         **vars(fold)))
        prev = digest
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("chain")
        batch.create_unique_constraint("uq_audit_log_seq", ["seq"])
    _replace_heads(False, [{"id": 1, "seq": seq, "hash": prev}])
