"""Administration: users, the creditor's own entities, rates, forms and the System page."""

from . import system  # noqa: F401  (registers the System page on bp)
from .views import bp

__all__ = ["bp"]
