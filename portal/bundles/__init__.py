"""Filing bundles: one indexed, bookmarked, paginated PDF (or volumes) made of a case's pleadings,
evidence list and exhibits.

This package holds the pure builder — bytes in, bytes out, no Flask and no database:

==============  ================================================================================
``builder``     ``build_bundle``: the two-pass layout, volumes, duplicates, manifest, preflight.
``profiles``    ``CourtProfile`` and ``PROFILES``: each court's limits (size, pages, PDF/A, dpi).
``pages``       The generated pages: cover, hyperlinked index, dividers (reportlab, embedded
                fonts from ``portal.pdf.fonts``).
``stamping``    Page numbers and exhibit labels on every page, links, bookmarks, page labels.
``layout``      Sections, labels, duplicates, volumes and page numbers (no drawing).
``duplicates``  Page text of exhibits, for near-duplicates.
``report``      The preflight report per volume.
==============  ================================================================================

``models`` and ``services`` keep each build as a version of the case (a job); ``views`` and
``forms`` are the pages.
"""

from .views import bp

__all__ = ["bp"]
