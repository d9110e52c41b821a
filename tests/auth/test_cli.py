"""`flask counties create` and `flask users create/grant/revoke/set-password`."""
from __future__ import annotations

from auth.models import User
from auth.passwords import verify_password
from coop.audit import AuditEntry
from coop.places.models import County
from tests.auth.conftest import login


def run(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def create_county(runner, code="371722"):
    result = run(runner, "counties", "create", "--name", "单县", "--code", code)
    assert result.exit_code == 0, result.output
    return int(result.output.strip())


def test_counties_create_prints_the_new_id(runner, db):
    county_id = create_county(runner)
    county = db.session.get(County, county_id)
    assert (county.name, county.code) == ("单县", "371722")
    entry = db.session.execute(db.select(AuditEntry).where(
        AuditEntry.action != "audit.chain_open")).scalar_one()
    assert entry.action == "county.create" and entry.actor_id is None
    assert entry.chain == f"county:{county_id}"  # the county's own chain, opened by it


def test_counties_create_refuses_a_bad_or_taken_code(runner, db):
    create_county(runner)
    taken = run(runner, "counties", "create", "--name", "单县", "--code", "371722")
    assert taken.exit_code != 0 and "COUNTY_CODE_TAKEN" in taken.output
    bad = run(runner, "counties", "create", "--name", "县", "--code", "37")
    assert bad.exit_code != 0 and "COUNTY_CODE_INVALID" in bad.output


def test_users_create_prompts_for_the_password_twice_and_hides_it(runner, db, client):
    county_id = create_county(runner)
    result = run(runner, "users", "create", "--phone", "13700000001", "--name", "王县管",
                 "--role", "county_admin", "--scope-id", str(county_id),
                 input="a-good-password\na-good-password\n")
    assert result.exit_code == 0, result.output
    assert "a-good-password" not in result.output  # hidden input is not echoed
    user = db.session.get(User, int(result.output.strip().splitlines()[-1]))
    assert [r.role for r in user.roles] == ["county_admin"]
    assert verify_password(user.password_hash, "a-good-password")
    assert login(client, "13700000001", "a-good-password").status_code == 200


def test_users_create_refuses_mismatched_confirmation(runner, db):
    county_id = create_county(runner)
    result = run(runner, "users", "create", "--phone", "13700000001", "--name", "王",
                 "--role", "county_admin", "--scope-id", str(county_id),
                 input="a-good-password\nanother-password\n")
    assert result.exit_code != 0
    assert db.session.execute(db.select(User)).first() is None


def test_users_create_reads_the_password_from_stdin(runner, db):
    county_id = create_county(runner)
    result = run(runner, "users", "create", "--phone", "13700000002", "--name", "李审核",
                 "--role", "county_reviewer", "--department", "agriculture",
                 "--scope-id", str(county_id), "--password-stdin", input="stdin-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.execute(db.select(User)).scalar_one()
    assert verify_password(user.password_hash, "stdin-password")
    assert user.roles[0].department == "agriculture"


def test_the_password_is_never_an_argument(runner, db):
    result = run(runner, "users", "create", "--phone", "13700000003", "--name", "x",
                 "--superuser", "--password", "in-the-shell-history")
    assert result.exit_code != 0
    assert "No such option" in result.output


def test_users_create_superuser_and_refusals(runner, db):
    ok = run(runner, "users", "create", "--phone", "13700000004", "--name", "超管",
             "--superuser", "--password-stdin", input="superuser-password\n")
    assert ok.exit_code == 0, ok.output
    assert db.session.execute(db.select(User)).scalar_one().is_superuser
    short = run(runner, "users", "create", "--phone", "13700000005", "--name", "x",
                "--superuser", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "VALIDATION_FAILED" in short.output
    no_role = run(runner, "users", "create", "--phone", "13700000006", "--name", "x",
                  "--password-stdin", input="long-enough-password\n")
    assert no_role.exit_code != 0
    missing_scope = run(runner, "users", "create", "--phone", "13700000007", "--name", "x",
                        "--role", "county_admin", "--scope-id", "999",
                        "--password-stdin", input="long-enough-password\n")
    assert missing_scope.exit_code != 0 and "NOT_FOUND" in missing_scope.output


def test_users_grant_and_revoke(runner, db, make):
    county_id = create_county(runner)
    coop = make.cooperative(county=db.session.get(County, county_id))
    user = make.user("county_finance", db.session.get(County, county_id), phone="13700000008")
    granted = run(runner, "users", "grant", "--phone", "13700000008", "--role", "coop_manager",
                  "--scope-id", str(coop.id))
    assert granted.exit_code == 0, granted.output
    db.session.expire_all()
    assert {r.role for r in db.session.get(User, user.id).roles} == {"county_finance",
                                                                     "coop_manager"}
    revoked = run(runner, "users", "revoke", "--user-id", str(user.id), "--role",
                  "county_finance", "--scope-id", str(county_id))
    assert revoked.exit_code == 0, revoked.output
    db.session.expire_all()
    assert [r.role for r in db.session.get(User, user.id).roles] == ["coop_manager"]
    missing = run(runner, "users", "revoke", "--user-id", str(user.id), "--role",
                  "county_finance", "--scope-id", str(county_id))
    assert missing.exit_code != 0


def test_users_set_password_ends_existing_logins(runner, db, make, client):
    county = make.county()
    user, headers = make.login("county_admin", county, phone="13700000009")
    result = run(runner, "users", "set-password", "--phone", "13700000009",
                 "--password-stdin", input="reset-password-1\n")
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login(client, "13700000009", "reset-password-1").status_code == 200
