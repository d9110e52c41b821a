"""Hardening: identifiers compared in a binary collation.

MariaDB's utf8mb4_unicode_ci holds full-width and circled digits, ignorable characters
(a zero-width space) and case as equal: "①③⑧00000011" found user 13800000011, and an
Idempotency-Key "ABC" replayed "abc". Every column that identifies (phones, keyed hashes
of ID cards and bank accounts, credit codes, token and invitation-code hashes, openids,
the notice token, idempotency keys) compares byte for byte: utf8mb4_bin, as the models
declare (coop.dbtypes.Ident). SQLite compares binary already: nothing to do there.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (table, column, length, nullable)
COLUMNS = (
    ("users", "phone", 20, True),
    ("wechat_bindings", "openid", 64, False),
    ("wechat_bindings", "unionid", 64, True),
    ("refresh_tokens", "token_hash", 64, False),
    ("invitations", "code_hash", 64, False),
    ("idempotency_keys", "key", 255, False),
    ("cooperatives", "credit_code", 18, False),
    ("cooperatives", "bank_account_hash", 64, True),
    ("village_secretaries", "id_card_hash", 64, True),
    ("village_secretaries", "phone", 20, True),
    ("village_secretaries", "bank_account_hash", 64, True),
    ("members", "id_card_hash", 64, False),
    ("members", "phone", 20, True),
    ("members", "bank_account_hash", 64, True),
    ("cooperative_officers", "id_card_hash", 64, False),
    ("cooperative_officers", "phone", 20, True),
    ("cooperative_officers", "bank_account_hash", 64, True),
    ("professional_managers", "id_card_hash", 64, False),
    ("professional_managers", "phone", 20, True),
    ("professional_managers", "bank_account_hash", 64, True),
    ("distribution_plans", "public_token", 64, True),
)


def _collate(collation: str | None) -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for table, column, length, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, existing_nullable=nullable,
                existing_type=mysql.VARCHAR(length, charset="utf8mb4"),
                type_=mysql.VARCHAR(length, charset="utf8mb4", collation=collation),
                nullable=nullable)


def upgrade():
    # Rows written so far are already their one ASCII spelling (the validators took no
    # other), so the unique keys that held under the case-insensitive collation hold here.
    _collate("utf8mb4_bin")


def downgrade():
    _collate("utf8mb4_unicode_ci")
