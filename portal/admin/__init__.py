"""Administration: users and the creditor's own entities."""

from .views import bp

__all__ = ["bp"]
