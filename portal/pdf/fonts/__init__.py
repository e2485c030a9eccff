"""Fonts for the PDF modules, read from the system's font files and embedded as subsets.

Text is set in Noto Sans CJK (fonts-noto-cjk), which covers Latin, Greek, Cyrillic and CJK, with
DejaVu Sans for what it lacks (``faces``). reportlab embeds only TrueType outlines and Noto Sans CJK
has CFF (PostScript) outlines, so this package embeds it itself: a CID-keyed CFF subset of the
glyphs used (``cff``, ``cff_format``), as a Type0 font with a ToUnicode map (so the text can be
searched and copied). PDFs that only name a standard font get a metric-compatible Liberation
subset (``substitute``, ``truetype``). ``sfnt`` reads the OpenType/TrueType tables both need.
"""
