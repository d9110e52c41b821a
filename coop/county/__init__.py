"""County money: collective income, evaluations, rewards, budgeted subsidy programs."""
