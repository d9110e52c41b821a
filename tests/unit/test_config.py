"""Configuration: profiles, production refuses unsafe secrets, MySQL gets utf8mb4."""
import pytest

from config import (DEV_FIELD_KEY, DEV_SECRET, ConfigError, check_production_secrets,
                    load_config, normalize_database_url)
from coop import create_app

STRONG = "s" * 40


def prod_env(**over):
    env = {"COOP_ENV": "production", "SECRET_KEY": STRONG, "JWT_SECRET": STRONG,
           "FIELD_ENCRYPTION_KEY": STRONG, "WECHAT_SECRET": "real-secret",
           "DATABASE_URL": "sqlite://", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
           "PUBLIC_BASE_URL": "https://coop.example.cn"}
    env.update(over)
    return env


def test_development_is_the_default_profile():
    cfg = load_config({})
    assert cfg["COOP_ENV"] == "development"
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert cfg["SQLALCHEMY_DATABASE_URI"].endswith("instance/coop.sqlite3")


def test_unknown_profile_is_refused():
    with pytest.raises(ConfigError):
        load_config({"COOP_ENV": "staging"})


def test_strong_production_config_is_accepted():
    check_production_secrets(load_config(prod_env()))


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET", "FIELD_ENCRYPTION_KEY"])
def test_production_refuses_short_secret(name):
    with pytest.raises(ConfigError, match=name):
        check_production_secrets(load_config(prod_env(**{name: "short"})))


@pytest.mark.parametrize("name,default", [("SECRET_KEY", DEV_SECRET), ("JWT_SECRET", DEV_SECRET),
                                          ("FIELD_ENCRYPTION_KEY", DEV_FIELD_KEY)])
def test_production_refuses_default_secret(name, default):
    env = prod_env()
    env.pop(name)
    with pytest.raises(ConfigError, match="default"):
        check_production_secrets(load_config(env))


def test_production_app_refuses_to_start_with_default_secrets(monkeypatch):
    monkeypatch.setenv("COOP_ENV", "production")
    for name in ("SECRET_KEY", "JWT_SECRET", "FIELD_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError):
        create_app()


def test_production_refuses_per_process_rate_limit_counters():
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        check_production_secrets(load_config(prod_env(RATELIMIT_STORAGE_URI="memory://")))
    # Switched off (e.g. limits enforced at the proxy), no storage is needed.
    check_production_secrets(load_config(prod_env(RATELIMIT_STORAGE_URI="memory://",
                                                  RATELIMIT_ENABLED="0")))


def test_production_notice_period_cannot_be_shortened():
    with pytest.raises(ConfigError):
        load_config(prod_env(DISCLOSURE_MIN_DAYS="3"))
    assert load_config({"DISCLOSURE_MIN_DAYS": "0"})["DISCLOSURE_MIN_DAYS"] == 0


def test_mysql_urls_get_utf8mb4():
    url = normalize_database_url("mysql+pymysql://root@127.0.0.1/test?charset=utf8")
    assert url.endswith("charset=utf8mb4")
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_number_in_environment_is_a_clear_error():
    with pytest.raises(ConfigError, match="DISCLOSURE_MIN_DAYS"):
        load_config({"DISCLOSURE_MIN_DAYS": "seven"})


def test_rate_limits_and_invite_lifetime_come_from_the_environment():
    cfg = load_config({"RATELIMIT_LOGIN_PER_PHONE": "3 per minute", "INVITE_TTL_HOURS": "24"})
    assert cfg["RATELIMIT_LOGIN_PER_PHONE"] == "3 per minute"
    assert cfg["INVITE_TTL_HOURS"] == 24
    assert "RATELIMIT_LOGIN_PER_IP" not in load_config({})
