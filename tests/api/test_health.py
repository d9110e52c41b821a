from sqlalchemy import text


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_until_migrations_are_at_head(client, db):
    # The test schema is built by create_all, so no alembic_version row exists yet.
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503


def test_readyz_is_200_when_at_head(client, db):
    from coop.health import migration_heads
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    for head in migration_heads():
        db.session.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 200
    finally:
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()


def test_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_authenticated_user_is_not_carried_between_requests(client, make):
    county = make.county()
    _, headers = make.login("county_admin", county)
    trail = f"/api/v1/audit?object_type=county&object_id={county.id}"
    assert client.get(trail, headers=headers).status_code == 200
    # No token: the previous request's user must not leak into this one.
    assert client.get(trail).status_code == 401
