"""Payout reports, the county dashboard."""
