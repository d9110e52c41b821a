"""The yearly surplus: accounts, trades, distribution plans, public notice."""
