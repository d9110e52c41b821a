"""The cooperative registry: cooperatives, their officers and managers, members."""
