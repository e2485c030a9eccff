"""Counsel review: submission, the lawyer's decision, signing, verification and dispatch."""

from . import (
    account_views,  # noqa: F401  (registers the account pages on bp)
    models,  # noqa: F401  (mapped before documents refer to Approval)
)
from .views import bp

__all__ = ["bp"]
