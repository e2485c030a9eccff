"""OpenType faces with CID-keyed CFF outlines (Noto Sans CJK): metrics, cmap and CFF subsets."""

from __future__ import annotations

import functools
import logging
import os
import struct
from collections.abc import Iterable

from .cff import Cff
from .sfnt import Sfnt

log = logging.getLogger(__name__)


@functools.cache
def open_type(path: str, index: int) -> OpenTypeFont | None:
    """Face ``index`` of the CFF font file at ``path``, once per process; ``None`` if unusable."""
    if not os.path.exists(path):
        return None
    try:
        return OpenTypeFont(path, index)
    except (OSError, ValueError, struct.error, IndexError, KeyError) as error:
        log.warning("rendition: cannot use font %s (face %d): %s", path, index, error)
        return None


class OpenTypeFont(Sfnt):
    """A face with CID-keyed CFF outlines (Noto Sans CJK), embedded as CFF subsets."""

    def __init__(self, path: str, index: int) -> None:
        super().__init__(path, index)
        self.cff = Cff(self.data, *self.tables["CFF "])
        self.registry, self.ordering, self.supplement = self.cff.ros

    def cid(self, glyph: int) -> int:
        return self.cff.cid(glyph)

    def subset(self, glyphs: Iterable[int]) -> bytes:
        return self.cff.subset(glyphs)
