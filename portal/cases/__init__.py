"""Arrears cases."""

from . import readiness  # noqa: F401 - registers the completeness veto on stage moves
from .views import bp

__all__ = ["bp"]
