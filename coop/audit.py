"""The audit trail: every write leaves a row in a SHA-256 hash chain (CONTRACT §9).

Chains. There is not one chain but one per scope, so that writers who share nothing do
not queue behind (or, on a multi-primary cluster, conflict on) one head row:

- `coop:<id>`   anything of one cooperative (its members, officers, share operations,
                accounts, plans, payout batches and lines, subsidy applications…);
- `county:<id>` county-level objects (towns, villages, zones, programs, reward rounds…);
- `user:<id>`   a user's own account events (logins, refreshes, notifications read…);
- `system`      the root: what belongs to none of these (cities, seeds), the rows written
                before chains were split (migration 0007 kept them here, hashes unchanged),
                and the opening of every other chain.

Which chain. `record(..., chain=...)` takes it explicitly; without it, the `CHAIN_OF`
hook that create_app plugs in (coop/audit_routes.py `chain_of`, a higher layer that
knows the models) maps (object_type, object_id) to its scope. The object is nearly always
in the session already (the service just wrote it), so the lookup costs no query.

Appending. `record()` queues rows on the session; `before_commit` chains them, after every
business row of the transaction has been written. Each chain has one row in `audit_head`
(chain, seq, hash). One statement reads and locks the heads of every chain the
transaction touches (`SELECT … WHERE chain IN (…) FOR UPDATE`: InnoDB takes the locks in
the key's order, so two transactions touching the same chains lock them in the same
order). Then one multi-row INSERT of the entries and one UPDATE per touched head: the
same three statements as with one chain. Two cooperatives' writes never touch a common
row. On SQLite a no-op UPDATE of those heads takes the database's write lock first
(SQLite has one writer anyway).

Opening a chain. A chain's first write inserts its head and records `audit.chain_open`
(object_type `audit_chain`, object_id the chain's name) in the `system` chain, in the
same transaction. That is the verifiable index of heads: deleting a whole chain, its
rows and its head, leaves an opening with no head; a head nobody opened is a forgery.
Openings are rare (once per cooperative, county or user), so the root head is not hot.
Locks go non-root chains first in name order, the root last, so an opening (which
discovers that it needs the root only after locking its own chains) keeps that order.
Two first writers of one chain racing: the head is inserted by an upsert (`INSERT … ON
DUPLICATE KEY UPDATE`), so the loser waits for the winner's row, then locks it and
appends after the winner's rows (READ COMMITTED sees them); it records no second
opening. On a Galera cluster the loser (on another node) instead fails certification at
commit (1213), which the unit of work retries as a whole.

Hashes. An entry's hash covers the previous hash, its own fields and its chain's name,
so it cannot be moved to another chain. `system` entries leave the name out: the name is
implied, and the rows written before 0007 keep the hashes they were written with.

`verify()` walks each chain in (chain, seq) order, never by id (a Galera cluster's ids
step by its node count and are not commit order), names the chain and the first row that
was edited, deleted or moved, compares each chain's end to its head (a truncated end),
and checks that the set of heads is the set of opened chains (a deleted chain). It runs
on a live database without stopping writers or holding a snapshot: the heads, read by one
statement first, are its boundary; each chain is judged up to its head's seq, and rows
appended after that are left for the next run (docs/domain/audit.md).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

import click
from flask import Blueprint, g, has_request_context
from flask.cli import with_appcontext
from sqlalchemy import (BigInteger, String, Text, UniqueConstraint, bindparam, case, event,
                        select, update)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from coop.dbtypes import Ident, UTCDateTime, intpk, utcnow
from coop.extensions import db

GENESIS = "0" * 64
ROOT = "system"
CHAIN_OPEN = "audit.chain_open"
# Written by migration 0007's downgrade, which folds every chain into one: the chain's rows
# now sit in the root, and a later opening of the same name starts a new chain.
CHAIN_FOLD = "audit.chain_fold"
_PENDING = "audit_pending"

# Every write passes through record(): a higher layer that reacts to changes (the
# notifications' outbox) plugs a listener in here, by name, through create_app's
# _connect_layers. Each is called as listener(session, actor, action, object_type,
# object_id, before, after) inside the change's own transaction, so whatever it writes
# commits or rolls back with the change.
ON_RECORD: dict[str, Callable[..., None]] = {}


def _root_only(session, object_type, object_id) -> str | None:
    return None


# The chain an object's rows go to, (session, object_type, object_id) → chain name or
# None for the root: plugged in by create_app (coop/audit_routes.py chain_of), since only
# a higher layer knows which cooperative or county an object belongs to.
CHAIN_OF: Callable[[Session, str, Any], str | None] = _root_only


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[intpk]
    chain: Mapped[str] = mapped_column(Ident(64), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_log_chain_seq"),
                      db.Index("ix_audit_log_object", "object_type", "object_id"))


class AuditHead(db.Model):
    """One row per chain: its last sequence number and hash. Its row lock serializes
    appends to that chain, and to that chain only."""

    __tablename__ = "audit_head"

    chain: Mapped[str] = mapped_column(Ident(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS)


@event.listens_for(AuditHead.__table__, "after_create")
def _insert_head(target, connection, **kw):
    # The root's head comes with the table, as it always did; other heads are opened.
    connection.execute(target.insert().values(chain=ROOT, seq=0, hash=GENESIS))


# Oldest first for one object's trail: an object's rows live in one chain, except the
# rows written before chains were split, which stayed in the root.
TRAIL_ORDER = (case((AuditEntry.chain == ROOT, 0), else_=1), AuditEntry.chain, AuditEntry.seq)


def _default(value: Any):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot audit a {type(value).__name__}")


def canonical(value: Any) -> str | None:
    """Stable JSON text: sorted keys, no spaces, UTF-8 kept (Chinese stays readable)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default)


def entry_hash(prev_hash: str, *, seq: int, at: datetime, actor_id, action: str,
               object_type: str, object_id, before: str | None, after: str | None,
               request_id: str | None, chain: str = ROOT) -> str:
    """SHA-256 over the previous hash and a canonical serialization of the row (with its
    chain's name, except in the root, whose pre-0007 rows were hashed without one)."""
    fields = {
        "seq": seq, "at": at.isoformat(), "actor_id": actor_id, "action": action,
        "object_type": object_type, "object_id": object_id, "before": before,
        "after": after, "request_id": request_id,
    }
    if chain != ROOT:
        fields["chain"] = chain
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


@dataclass
class _Pending:
    chain: str
    actor_id: int | None
    action: str
    object_type: str
    object_id: str | None
    before: str | None
    after: str | None
    request_id: str | None


def record(session: Session, actor, action: str, object_type: str, object_id=None, *,
           before: dict | None = None, after: dict | None = None,
           chain: str | None = None) -> None:
    """Queue an audit row for this transaction; it is chained when the session commits.

    `actor` is a user object (anything with `.id`), a user id, or None for the system.
    `before`/`after` are JSON-able dicts of the object's state. `chain` names the chain
    (`coop:<id>`, `county:<id>`…); left out, the CHAIN_OF hook finds it from the object.
    """
    session = session.registry() if isinstance(session, scoped_session) else session
    if not session.in_transaction():
        # Tie the queued row to a transaction, so a rollback before any SQL drops it too.
        session.begin()
    if chain is None:
        chain = CHAIN_OF(session, object_type, object_id) or ROOT
    actor_id = getattr(actor, "id", actor)
    request_id = g.get("request_id") if has_request_context() else None
    session.info.setdefault(_PENDING, []).append(_Pending(
        chain=chain, actor_id=actor_id, action=action, object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=canonical(before), after=canonical(after), request_id=request_id,
    ))
    for listener in ON_RECORD.values():
        listener(session, actor, action, object_type, object_id, before, after)


def _lock_order(chain: str):
    return (chain == ROOT, chain)


def _open_head(conn, chain: str):
    """Insert a new chain's head, or, if a concurrent first writer inserted it first, wait
    for theirs and lock it. Returns (seq, hash, opened by us)."""
    if conn.dialect.name == "sqlite":  # the write lock is ours: nobody can race us
        conn.execute(_INSERT_HEAD, {"chain": chain})
        return 0, GENESIS, True
    # Not a plain INSERT: one that meets a duplicate takes a shared lock on it, and two
    # losers each holding one and both asking for the exclusive lock deadlock. The upsert
    # takes the exclusive lock at once, so losers queue behind the winner.
    conn.execute(_UPSERT_HEAD, {"chain": chain})
    row = conn.execute(_READ_HEADS, {"chains": [chain]}).one()
    # A committed head is never at 0 (it is opened and moved in one transaction): at 0,
    # the row is the one just inserted here.
    return row.seq, row.hash, row.seq == 0


def _append_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # business rows first, so the head locks are the last locks taken
    # Plain Core statements: this runs in every write's commit (a county run: 151 times).
    conn = session.connection()
    chains = sorted({item.chain for item in pending}, key=_lock_order)
    if conn.dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE: a no-op UPDATE takes the database's write lock first,
        # so no other writer can read the same head between our read and our write.
        conn.execute(_TAKE_HEAD_LOCKS, {"chains": chains})
    # One statement locks the heads in key order; the root, when it comes with others
    # (rare: openings, seeds), is locked after them by a second one.
    split = chains[:-1] if chains[-1] == ROOT and len(chains) > 1 else chains
    heads = {row.chain: (row.seq, row.hash)
             for row in conn.execute(_READ_HEADS, {"chains": split})}
    if split is not chains:
        heads.update((row.chain, (row.seq, row.hash))
                     for row in conn.execute(_READ_HEADS, {"chains": [ROOT]}))
    opened = []
    for chain in chains:
        if chain not in heads:
            seq, digest, new = _open_head(conn, chain)
            heads[chain] = (seq, digest)
            if new and chain != ROOT:
                opened.append(chain)
    if opened:
        # Rare: the root's head is locked last, whatever else this transaction holds.
        if ROOT not in heads:
            row = conn.execute(_READ_HEADS, {"chains": [ROOT]}).first()
            heads[ROOT] = (row.seq, row.hash) if row else _open_head(conn, ROOT)[:2]
        pending = [_Pending(ROOT, None, CHAIN_OPEN, "audit_chain", name, None, None, None)
                   for name in opened] + pending
    rows, moved = [], {}
    for item in pending:
        seq, prev = heads[item.chain]
        seq += 1
        at = utcnow()
        digest = entry_hash(prev, chain=item.chain, seq=seq, at=at, actor_id=item.actor_id,
                            action=item.action, object_type=item.object_type,
                            object_id=item.object_id, before=item.before, after=item.after,
                            request_id=item.request_id)
        rows.append(dict(chain=item.chain, seq=seq, at=at, actor_id=item.actor_id,
                         action=item.action, object_type=item.object_type,
                         object_id=item.object_id, before=item.before, after=item.after,
                         request_id=item.request_id, prev_hash=prev, hash=digest))
        heads[item.chain] = moved[item.chain] = (seq, digest)
    conn.execute(_INSERT_ENTRIES, rows)
    conn.execute(_MOVE_HEAD, [{"head": chain, "new_seq": moved[chain][0],
                               "new_hash": moved[chain][1]}
                              for chain in sorted(moved, key=_lock_order)])


# Built once: a statement built per call costs more to build than to run.
_HEAD = AuditHead.__table__
_TAKE_HEAD_LOCKS = (update(_HEAD).where(_HEAD.c.chain.in_(bindparam("chains", expanding=True)))
                    .values(seq=_HEAD.c.seq))
_READ_HEADS = (select(_HEAD.c.chain, _HEAD.c.seq, _HEAD.c.hash)
               .where(_HEAD.c.chain.in_(bindparam("chains", expanding=True)))
               .order_by(_HEAD.c.chain).with_for_update())
_INSERT_HEAD = _HEAD.insert().values(chain=bindparam("chain"), seq=0, hash=GENESIS)
_UPSERT_HEAD = (mysql_insert(_HEAD).values(chain=bindparam("chain"), seq=0, hash=GENESIS)
                .on_duplicate_key_update(seq=_HEAD.c.seq))
_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.chain == bindparam("head"))
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
_INSERT_ENTRIES = AuditEntry.__table__.insert()


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        _append_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_PENDING, None)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str | None = None
    chain: str | None = None
    chains: int = 0


_LOG = AuditEntry.__table__
_WALK = (select(_LOG).where(_LOG.c.chain == bindparam("chain"), _LOG.c.seq > bindparam("after"))
         .order_by(_LOG.c.seq))
_ALL_HEADS = select(_HEAD.c.chain, _HEAD.c.seq, _HEAD.c.hash)
# A plain read (no FOR UPDATE): verify never locks what writers need.
_REREAD_HEAD = select(_HEAD.c.seq).where(_HEAD.c.chain == bindparam("chain"))


def _walk_chain(session: Session, chain: str, head, batch: int):
    """Verify one chain up to its head as read at verify's boundary (`head`, or None for
    a chain with rows and no head); returns (rows checked, None) or (rows checked,
    (bad seq, reason)).

    Rows past the boundary head are ones appended after it (checked by the next run),
    unless they are still past the head when it is read again after them: a writer
    inserts its rows and moves the head in one transaction, so a committed row beyond a
    head read later than that row is a head set back by hand (a hidden truncation, and
    the next append would collide with the row)."""
    upto = None if head is None else head[0]
    prev, expected, checked, beyond = GENESIS, 1, 0, None
    while beyond is None:
        rows = session.execute(_WALK.limit(batch),
                               {"chain": chain, "after": expected - 1}).all()
        if not rows:
            break
        for row in rows:
            if upto is not None and row.seq > upto:
                beyond = rows[-1].seq   # the furthest row this read saw past the head
                break
            if row.seq != expected:
                return checked, (row.seq,
                                 "deleted or reordered: expected sequence %d here" % expected)
            if row.prev_hash != prev:
                return checked, (row.seq, "chain broken: previous hash does not match")
            digest = entry_hash(prev, chain=chain, seq=row.seq, at=row.at,
                                actor_id=row.actor_id, action=row.action,
                                object_type=row.object_type, object_id=row.object_id,
                                before=row.before, after=row.after, request_id=row.request_id)
            if digest != row.hash:
                return checked, (row.seq, "edited: hash does not match")
            prev, expected, checked = row.hash, expected + 1, checked + 1
    if head is None:
        return checked, (1, "no head: this chain's head row is missing")
    if head != (checked, prev):
        # Every row up to the boundary head committed with it (or before it): a shorter
        # walk is a cut-off end, a different last hash an edited head.
        if checked < head[0]:
            return checked, (checked + 1,
                             "deleted: rows after sequence %d are missing" % checked)
        return checked, (checked, "head does not match: its hash is not the last row's")
    if beyond is not None:
        now = session.execute(_REREAD_HEAD, {"chain": chain}).scalar()
        if now is None or now < beyond:
            return checked, (beyond, "head set back: row %d is past the head (sequence %s)"
                             % (beyond, now))
    return checked, None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute every chain in (chain, seq) order; report the first row that does not
    fit, naming its chain, then any chain whose head and opening do not match.

    Exact on a live database, with no long-lived snapshot (which would hold back InnoDB's
    and Galera's purge for the whole walk) and without stopping writers: the heads, all
    read by ONE statement first, are the boundary. Each chain is verified up to its head's
    seq and must end on its head's hash (rows appended later are for the next run), and
    the index is judged at the same boundary: openings in the root up to the root head's
    seq must each have a head in that read, and each head read must have one of them. A
    chain opened after the boundary has neither (its head was not read, its opening is
    past the root's boundary), so it is simply not judged yet."""
    heads = {r.chain: (r.seq, r.hash) for r in session.execute(_ALL_HEADS)}
    logged = set(session.execute(select(_LOG.c.chain).distinct()).scalars())
    total = 0
    for chain in sorted(heads.keys() | logged, key=_lock_order):
        head = heads.get(chain)
        if head is None and session.execute(_REREAD_HEAD, {"chain": chain}).first():
            # Rows and head commit together: a head there now, with rows read before it,
            # is a chain opened after the boundary.
            continue
        checked, bad = _walk_chain(session, chain, head, batch)
        total += checked
        if bad:
            return VerifyResult(False, total, bad[0], bad[1], chain)
    # The root's openings up to the boundary (each verified above) are the index the
    # heads must equal.
    root_seq = heads[ROOT][0] if ROOT in heads else 0
    opened = {}
    for name, action, seq in session.execute(
            select(_LOG.c.object_id, _LOG.c.action, _LOG.c.seq)
            .where(_LOG.c.chain == ROOT, _LOG.c.action.in_((CHAIN_OPEN, CHAIN_FOLD)),
                   _LOG.c.seq <= root_seq)
            .order_by(_LOG.c.seq)):
        if action == CHAIN_OPEN:
            opened[name] = seq
        else:
            opened.pop(name, None)
    for chain, seq in sorted(opened.items()):
        if chain not in heads:
            return VerifyResult(False, total, seq, "deleted chain: %s was opened here and "
                                "has no head or rows" % chain, ROOT)
    for chain in sorted(heads, key=_lock_order):
        if chain != ROOT and chain not in opened:
            return VerifyResult(False, total, 1, "not opened: no opening of this chain in "
                                "the %s chain" % ROOT, chain)
    return VerifyResult(True, total, chains=len(heads))


def entry_to_dict(entry: AuditEntry) -> dict:
    return {
        "id": entry.id, "seq": entry.seq, "at": entry.at.isoformat(), "actor_id": entry.actor_id,
        "action": entry.action, "object_type": entry.object_type, "object_id": entry.object_id,
        "before": json.loads(entry.before) if entry.before else None,
        "after": json.loads(entry.after) if entry.after else None,
        "request_id": entry.request_id,
    }


cli = Blueprint("audit_cli", __name__, cli_group="audit")


@cli.cli.command("verify")
@with_appcontext
def verify_command():
    """Recompute the audit hash chains; exit 1 and name the chain and its first bad row."""
    result = verify(db.session)
    if result.ok:
        click.echo(f"audit chain ok: {result.checked} rows in {result.chains} chains")
        return
    click.echo(f"audit chain BROKEN in chain {result.chain} at seq {result.bad_seq}: "
               f"{result.reason} ({result.checked} rows verified before it)", err=True)
    raise SystemExit(1)
