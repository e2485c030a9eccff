"""Documents: letters and pleadings rendered from templates per jurisdiction, as versions."""

from .views import bp

__all__ = ["bp"]
