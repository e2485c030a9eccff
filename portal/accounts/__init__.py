"""Accounts: sign-in, profile, API tokens."""

from .views import bp

__all__ = ["bp"]
