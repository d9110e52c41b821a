"""Payout batches: what is owed to whom, paid through the bank, with results recorded."""
