"""Arrears cases."""

from . import (
    jobs,  # noqa: F401 - registers the worker's refresh of case figures
    readiness,  # noqa: F401 - registers the completeness veto on stage moves
)
from .views import bp

__all__ = ["bp"]
