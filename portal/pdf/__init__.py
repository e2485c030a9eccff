"""PDF building blocks over bytes — no Flask, no database — for evidence renditions now and
filing bundles and generated documents later.

==============  ================================================================================
``sanitise``    ``sanitise_pdf``: a PDF without JavaScript, actions, embedded files, multimedia or
                XFA, unencrypted, with the fonts it only names embedded (``fonts.substitute``).
``preflight``   ``preflight``: what in a PDF a filing bundle must not contain.
``images``      ``image_pdf``: JPEG/PNG/TIFF/HEIC on A4 pages at most ``max_dpi``.
``text``        ``text_pdf`` and the layout engine (``Line``, ``typeset``) for A4 text pages with
                "page N of M" footers, set in embedded fonts (``fonts.faces``).
``mail``        ``email_pdf``: an e-mail's header table, body and attachment list; ``html_to_text``.
``fonts``       Font files read in place (``sfnt``, ``truetype``, ``opentype``, ``cff``),
                subsetted and embedded.
``base``        ``RenditionFailed``, ``page_count`` and the pikepdf helpers the others share.
==============  ================================================================================
"""
