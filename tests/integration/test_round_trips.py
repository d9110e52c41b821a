"""The round-trip budget of the requests phones make most (issue 22, docs/performance.md).

On MariaDB every statement, COMMIT, ROLLBACK and ping is a network exchange parsed by the
driver, and on a small read those exchanges are most of the cost. So the count of them is
held here, per request, and a change that adds one fails:

  request                            statements          besides the statements
  authenticated object read          1 (caller and object in one)  nothing (no ping,
                                                         COMMIT, ROLLBACK)
  a page of 20 of applications       2 (caller, page and its total in one)   nothing
  a page of 20 of a coop's members   2 (caller and the cooperative, page and total)
  a typical write (apply for a subsidy)  WRITE_STATEMENTS  START TRANSACTION and one COMMIT

Statements are counted on the engine (`before_cursor_execute`) on both databases; on
MariaDB every exchange the driver sends is counted too (its query, commit, rollback and
ping), whichever driver the URL names. The first request of each kind warms the pool (a
new connection's handshake is not a request's cost); the second is counted.

Logout and a password change still take effect at once: the caller query reads the token
family on every request, so a revoked one is refused on the very next request.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from auth.models import RoleAssignment
from coop.county.models import Program, SubsidyApplication
from tests.conftest import is_mysql

# The caller (token family, status, roles) and the object the path names, one statement.
OBJECT_READ_STATEMENTS = 1
READ_STATEMENTS = 2
# Apply for a subsidy: the caller with the cooperative (its scope), the acting user and
# its roles (the audit entry's actor), the program, the INSERT, the notification's
# recipients and row, and the cooperative's audit chain (lock and read its head, append,
# move the head). SQLite takes its write lock first with one more UPDATE of the head.
# The warm-up request has opened the chain (a chain's first write also records its
# opening).
WRITE_STATEMENTS = 10 if is_mysql() else 11


@dataclass
class Exchanges:
    statements: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)     # every exchange (MariaDB only)

    def besides_statements(self) -> list[str]:
        """What went over the wire that was not one of the engine's statements."""
        extra = list(self.sent)
        for statement in self.statements:
            head = statement.split(None, 1)[0].upper()
            for i, sent in enumerate(extra):
                if sent.startswith(head) and sent not in ("COMMIT", "ROLLBACK"):
                    del extra[i]
                    break
        return extra


def _driver_base(db):
    """The driver's own connection class (the app's is coop/dbconn.py's subclass of it)."""
    raw = db.engine.raw_connection()
    try:
        return type(raw.dbapi_connection).__mro__[1]
    finally:
        raw.close()


@contextlib.contextmanager
def counting(db, monkeypatch):
    seen = Exchanges()

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        seen.statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_statement)
    if is_mysql():
        base = _driver_base(db)

        def wrap(name, label):
            original = getattr(base, name)

            def counted(self, *args, **kwargs):
                if label is None:
                    sql = args[0] if args else kwargs.get("sql")
                    text = sql.decode() if isinstance(sql, bytes) else sql
                    seen.sent.append(text.split(None, 1)[0].upper()
                                     if not text.upper().startswith("START TRANSACTION")
                                     else "START TRANSACTION")
                else:
                    seen.sent.append(label)
                return original(self, *args, **kwargs)
            monkeypatch.setattr(base, name, counted)

        wrap("query", None)
        wrap("commit", "COMMIT")
        wrap("rollback", "ROLLBACK")
        wrap("ping", "PING")
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        monkeypatch.undo()


def measure(client, db, monkeypatch, method, url, headers, json=None, status=200):
    """Exchanges of the second of two identical requests (the first warms the pool)."""
    db.session.commit()
    db.session.close()      # the test's own session holds no connection into the count
    response = client.open(url, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_json()
    db.session.close()
    with counting(db, monkeypatch) as seen:
        response = client.open(url, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_json()
    return seen


@pytest.fixture
def coop_world(make, db):
    county = make.county()
    coop = make.cooperative(county=county)
    members = [make.member(coop) for _ in range(25)]
    manager = make.login("coop_manager", coop)
    finance = make.login("county_finance", county, department="finance")
    program = Program(county_id=county.id, name="衔接资金", year=2025, budget_fen=10**10,
                      committed_fen=0, disbursed_fen=0)
    db.session.add(program)
    db.session.flush()
    for i in range(25):
        db.session.add(SubsidyApplication(
            county_id=county.id, cooperative_id=coop.id, program_id=program.id,
            amount_fen=500_000 + i, purpose="冷库建设", status="submitted",
            created_by=finance[0].id))
    db.session.commit()
    return {"coop": coop, "members": members, "manager": manager, "finance": finance,
            "program": program}


def test_an_object_read_is_the_caller_and_the_object_and_nothing_else(
        client, db, coop_world, monkeypatch):
    _, headers = coop_world["manager"]
    seen = measure(client, db, monkeypatch, "GET",
                   f"/api/v1/members/{coop_world['members'][7].id}", headers)
    assert len(seen.statements) == OBJECT_READ_STATEMENTS, seen.statements
    assert seen.besides_statements() == []          # no ping, no COMMIT, no ROLLBACK
    # Only what the response shows (and the scope) is loaded: never the encrypted
    # numbers or their lookup hashes.
    member_select = seen.statements[-1].lower()
    assert re.search(r"members(_\d+)?\.name\b", member_select), member_select
    assert re.search(r"members(_\d+)?\.cooperative_id\b", member_select), member_select
    for hidden in ("id_card_enc", "id_card_hash", "bank_account_enc", "bank_account_hash"):
        assert hidden not in member_select, member_select


def test_an_object_read_with_columns_gets_those_columns_and_its_scope(client, db,
                                                                     coop_world, app):
    """`access(..., columns=)` gives the view a row of its columns, the same values the
    ORM object holds, judged by the same scope rule (a member's `member_id` is its id);
    a column the view did not name is an error at once, never a silent blank."""
    from flask import g
    from auth.policy import authenticate, in_scope
    from auth.tokens import decode
    from coop.registry.members import SHOWN
    from coop.registry.models import Member
    member = coop_world["members"][3]
    _, headers = coop_world["manager"]
    with app.test_request_context(headers=headers):
        claims = decode(headers["Authorization"].removeprefix("Bearer "), "access")
        g.identity_source = lambda: (int(claims["sub"]), claims["fam"])
        loaded = authenticate((Member, member.id, SHOWN))
        for column in SHOWN:
            assert getattr(loaded, column.key) == getattr(member, column.key), column.key
        assert (loaded.member_id, loaded.county_id) == (member.id, member.county_id)
        assert in_scope(loaded, ("coop_manager",))
        with pytest.raises(AttributeError):
            loaded.id_card_enc
        assert authenticate((Member, member.id + 10_000, SHOWN)) is None
    db.session.rollback()


@pytest.mark.parametrize("who,url,statements", [
    # The cooperative named in the path comes with the caller, for its scope check.
    ("manager", "/api/v1/cooperatives/{coop}/members?per_page=20", READ_STATEMENTS),
    ("finance", "/api/v1/subsidy-applications?per_page=20", READ_STATEMENTS),
])
def test_a_full_page_of_20_is_the_caller_and_one_query_for_rows_and_total(
        client, db, coop_world, monkeypatch, who, url, statements):
    _, headers = coop_world[who]
    url = url.format(coop=coop_world["coop"].id)
    seen = measure(client, db, monkeypatch, "GET", url, headers)
    body = client.get(url, headers=headers).get_json()
    assert (len(body["items"]), body["total"]) == (20, 25)      # full page: total not told
    assert len(seen.statements) == statements, seen.statements
    assert seen.besides_statements() == []


def test_the_page_after_the_last_still_tells_the_total(client, db, coop_world):
    _, headers = coop_world["manager"]
    url = f"/api/v1/cooperatives/{coop_world['coop'].id}/members?per_page=20&page=3"
    body = client.get(url, headers=headers).get_json()
    assert (body["items"], body["total"]) == ([], 25)


def test_a_write_opens_one_transaction_and_commits_it_once(client, db, coop_world,
                                                          monkeypatch):
    _, headers = coop_world["manager"]
    url = f"/api/v1/cooperatives/{coop_world['coop'].id}/subsidy-applications"
    body = {"program_id": coop_world["program"].id, "amount_fen": 100_000,
            "purpose": "冷库建设"}
    seen = measure(client, db, monkeypatch, "POST", url, headers, json=body, status=201)
    assert len(seen.statements) == WRITE_STATEMENTS, seen.statements
    if is_mysql():
        assert seen.sent.count("START TRANSACTION") == 1
        assert seen.sent.count("COMMIT") == 1
        assert "ROLLBACK" not in seen.sent and "PING" not in seen.sent
        assert seen.besides_statements() == ["START TRANSACTION", "COMMIT"]


def test_logout_refuses_the_access_token_on_the_very_next_request(client, db, make):
    from auth.tokens import issue_pair
    user = make.user("county_admin", make.county())
    pair = issue_pair(db.session, user)
    db.session.commit()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    out = client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]},
                      headers=headers)
    assert out.status_code in (200, 204), out.get_json()
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "TOKEN_INVALID"


def test_a_password_change_refuses_older_tokens_on_the_very_next_request(client, db, make):
    from auth.passwords import hash_password
    user = make.user("county_admin", make.county())
    user.password_hash = hash_password("old-password-123")
    db.session.commit()
    headers = make.headers(user)
    other_device = make.headers(user)
    changed = client.post("/api/v1/me/password", headers=headers, json={
        "old_password": "old-password-123", "new_password": "new-password-456"})
    assert changed.status_code in (200, 204), changed.get_json()
    for h in (headers, other_device):
        refused = client.get("/api/v1/me", headers=h)
        assert refused.status_code == 401
        assert refused.get_json()["code"] == "TOKEN_INVALID"


def test_a_role_taken_away_is_gone_on_the_very_next_request(client, db, make):
    county = make.county()
    user, headers = make.login("county_admin", county)
    assert client.get(f"/api/v1/users/{user.id}", headers=headers).status_code == 200
    db.session.query(RoleAssignment).filter_by(user_id=user.id).delete()
    db.session.commit()
    assert client.get(f"/api/v1/users/{user.id}", headers=headers).status_code == 403


@pytest.mark.skipif(not is_mysql(), reason="SQLite has no server to drop a connection")
def test_a_connection_the_server_dropped_costs_a_read_again_not_a_failed_request(
        client, db, coop_world):
    """No ping on checkout: a pooled connection killed between requests (a restart, a
    failover, `KILL`) shows itself on the request's first read, which runs once more on a
    fresh connection. The request answers as if nothing happened."""
    from sqlalchemy import text
    _, headers = coop_world["manager"]
    member_id = coop_world["members"][7].id
    url = f"/api/v1/members/{member_id}"
    db.session.commit()
    db.session.close()
    assert client.get(url, headers=headers).status_code == 200   # a pooled connection
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool
    other = create_engine(db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with other.connect() as killer:     # not one of the pool's connections
        victims = killer.execute(text(
            "SELECT id FROM information_schema.processlist "
            "WHERE db = DATABASE() AND id <> CONNECTION_ID()")).scalars().all()
        assert victims
        for victim in victims:
            killer.execute(text(f"KILL {int(victim)}"))
    other.dispose()
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == member_id
