"""Imports of debtors, invoices and payments from CSV and XLSX files: pages, API and command.

The HTML blueprint is ``bp``; the API blueprint is ``portal.imports.api.blp`` and the command
``portal.imports.cli.import_cli``.
"""

from .views import bp

__all__ = ["bp"]
