"""Identity and access: users, roles with scopes, tokens, WeChat login, the policy layer."""
