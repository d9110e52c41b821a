"""The share ledger (股权登记): operations requested and approved, numbered lines."""
