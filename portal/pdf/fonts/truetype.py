"""TrueType font files: subsets that keep the glyph ids (unused glyphs emptied)."""

from __future__ import annotations

import functools
import logging
import os
import re
import struct
from collections.abc import Iterable

from .sfnt import Sfnt

log = logging.getLogger(__name__)


@functools.cache
def true_type(path: str) -> TrueTypeFile | None:
    """The TrueType file at ``path``, read once per process; ``None`` if missing or unusable."""
    if not os.path.exists(path):
        return None
    try:
        return TrueTypeFile(path)
    except (OSError, ValueError, struct.error, KeyError) as error:
        log.warning("rendition: cannot use font %s: %s", path, error)
        return None


#: TrueType tables a PDF viewer uses from an embedded font; the rest are left out.
_TRUE_TYPE_TABLES = (
    "OS/2",
    "cmap",
    "cvt ",
    "fpgm",
    "gasp",
    "glyf",
    "head",
    "hhea",
    "hmtx",
    "loca",
    "maxp",
    "name",
    "post",
    "prep",
)


class TrueTypeFile(Sfnt):
    """A TrueType font file: subsets that keep the glyph ids (unused glyphs emptied)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        (self.long_loca,) = struct.unpack_from(">h", self.data, self.tables["head"][0] + 50)
        (self.glyph_count,) = struct.unpack_from(">H", self.data, self.tables["maxp"][0] + 4)
        (angle,) = struct.unpack_from(">i", self.data, self.tables["post"][0] + 4)
        self.italic_angle = round(angle / 65536, 2)
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", self.postscript_name.replace("-Regular", ""))
        self.full_name = words.replace("-", " ")

    def _glyph_data(self, glyph: int) -> bytes:
        loca, glyf = self.tables["loca"][0], self.tables["glyf"][0]
        if self.long_loca:
            start, end = struct.unpack_from(">II", self.data, loca + 4 * glyph)
        else:
            start, end = (
                2 * value for value in struct.unpack_from(">HH", self.data, loca + 2 * glyph)
            )
        return self.data[glyf + start : glyf + end]

    def subset(self, glyphs: Iterable[int]) -> bytes:
        """The font with every glyph but ``glyphs`` (their components and .notdef) emptied."""
        keep = {0}
        pending = list(glyphs)
        while pending:
            glyph = pending.pop()
            if glyph in keep or not 0 <= glyph < self.glyph_count:
                continue
            keep.add(glyph)
            pending.extend(_components(self._glyph_data(glyph)))
        glyf = bytearray()
        loca = []
        for glyph in range(self.glyph_count):
            loca.append(len(glyf))
            if glyph in keep:
                glyf += self._glyph_data(glyph)
                glyf += b"\0" * (-len(glyf) % 4)
        loca.append(len(glyf))
        head_at, head_length = self.tables["head"]
        head = bytearray(self.data[head_at : head_at + head_length])
        head[8:12] = b"\0\0\0\0"  # checkSumAdjustment: not checked by PDF viewers
        head[50:52] = struct.pack(">h", 1)  # long loca offsets
        tables = {
            tag: bytes(self.data[offset : offset + length])
            for tag, (offset, length) in self.tables.items()
            if tag in _TRUE_TYPE_TABLES
        }
        tables |= {
            "head": bytes(head),
            "glyf": bytes(glyf),
            "loca": struct.pack(f">{len(loca)}I", *loca),
            # format 3, without glyph names: viewers find glyphs by Unicode through the cmap
            "post": struct.pack(">I", 0x00030000) + tables["post"][4:32],
        }
        return _build_sfnt(tables)


def _components(glyph: bytes) -> list[int]:
    """The glyph ids a composite glyph is made of (none for a simple glyph)."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph, 0)[0] >= 0:
        return []
    found = []
    at = 10
    while at + 4 <= len(glyph):
        flags, component = struct.unpack_from(">HH", glyph, at)
        found.append(component)
        at += 4 + (4 if flags & 0x0001 else 2)
        at += 8 if flags & 0x0080 else 4 if flags & 0x0040 else 2 if flags & 0x0008 else 0
        if not flags & 0x0020:
            break
    return found


def _build_sfnt(tables: dict[str, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    offset = 12 + 16 * count
    directory, body = bytearray(), bytearray()
    for tag in tags:
        table = tables[tag]
        padded = table + b"\0" * (-len(table) % 4)
        checksum = sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF
        directory += struct.pack(
            ">4sIII", tag.encode("latin-1"), checksum, offset + len(body), len(table)
        )
        body += padded
    return header + bytes(directory) + bytes(body)
