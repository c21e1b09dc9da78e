"""Accounts and authorisation: organisations, users, roles, sessions, tokens, and the policy."""
