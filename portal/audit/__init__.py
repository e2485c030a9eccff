"""The audit trail."""

from . import (
    checkpoint,  # noqa: F401 - registers the after-commit checkpoint writer
    jobs,  # noqa: F401 - registers the daily checkpoint with the worker
)
from .views import bp

__all__ = ["bp"]
