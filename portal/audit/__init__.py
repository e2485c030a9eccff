"""The audit trail."""

from .views import bp

__all__ = ["bp"]
