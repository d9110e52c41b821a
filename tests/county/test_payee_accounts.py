"""Payees have bank accounts (CONTRACT §10): officers, professional managers and the
cooperative's basic account, stored encrypted, shown masked, audited."""
from __future__ import annotations

from sqlalchemy import select

from coop.audit import AuditEntry
from coop.registry.models import Cooperative, Officer
from tests.factories import valid_id_card

API = "/api/v1"


def test_officer_manager_and_cooperative_accounts_are_masked_and_encrypted(client, world, db):
    headers = world.manager[1]
    officer = client.post(f"{API}/cooperatives/{world.coop.id}/officers", headers=headers, json={
        "person": {"name": "孙理事", "id_card_no": valid_id_card()}, "role": "director",
        "village_committee_member": False, "start_on": "2024-01-01",
        "bank_name": "农业银行", "bank_account": "6228 4800 0000 0000 123"})
    assert officer.status_code == 201, officer.get_json()
    body = officer.get_json()
    assert body["bank_name"] == "农业银行" and body["bank_account"].endswith("0123")
    assert "6228480000000000123" not in officer.get_data(as_text=True)
    row = db.session.get(Officer, body["id"])
    assert "6228480000000000123" not in row.bank_account_enc
    # half an account is refused; a PATCH changes it
    bad = client.post(f"{API}/cooperatives/{world.coop.id}/managers", headers=headers, json={
        "person": {"name": "钱经理", "id_card_no": valid_id_card()},
        "contract_start": "2024-01-01", "contract_end": "2026-12-31",
        "base_pay_fen_per_year": 6_000_000, "bank_account": "6228480000000000456"})
    assert bad.status_code == 422
    manager = client.post(f"{API}/cooperatives/{world.coop.id}/managers", headers=headers, json={
        "person": {"name": "钱经理", "id_card_no": valid_id_card()},
        "contract_start": "2024-01-01", "contract_end": "2026-12-31",
        "base_pay_fen_per_year": 6_000_000})
    assert manager.status_code == 201 and manager.get_json()["bank_account"] is None
    patched = client.patch(f"{API}/managers/{manager.get_json()['id']}", headers=headers,
                           json={"bank_name": "农商银行", "bank_account": "6210000000000000456"})
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["bank_account"].endswith("0456")
    # the cooperative's basic account
    coop = client.patch(f"{API}/cooperatives/{world.other_coop.id}", headers=world.admin[1],
                        json={"bank_name": "农商银行", "bank_account": "6210000000000000789"})
    assert coop.status_code == 200, coop.get_json()
    assert coop.get_json()["bank_account"].endswith("0789")
    assert db.session.get(Cooperative, world.other_coop.id).bank_account_enc
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "cooperative.update")).scalars().all()[-1]
    assert "0789" in entry.after and "6210000000000000789" not in entry.after
