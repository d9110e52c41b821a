"""Places: county → town → village, and demonstration zones (片区)."""
