"""OpenType/TrueType files and collections, read in place: tables, metrics, Unicode cmap."""

from __future__ import annotations

import functools
import mmap
import os
import re
import struct
from bisect import bisect_right


class Sfnt:
    """One face of an OpenType/TrueType file or collection: tables, metrics, Unicode cmap.

    The file is memory-mapped, not read: only the tables and glyphs used are touched.
    """

    def __init__(self, path: str, index: int = 0) -> None:
        self.path = path
        with open(path, "rb") as handle:
            self.data = data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        start = 0
        if data[:4] == b"ttcf":
            (count,) = struct.unpack_from(">I", data, 8)
            if index >= count:
                raise ValueError(f"the collection has {count} faces")
            (start,) = struct.unpack_from(">I", data, 12 + 4 * index)
        (tables,) = struct.unpack_from(">H", data, start + 4)
        self.tables: dict[str, tuple[int, int]] = {}
        for number in range(tables):
            tag, _checksum, offset, length = struct.unpack_from(
                ">4sIII", data, start + 12 + 16 * number
            )
            self.tables[tag.decode("latin-1")] = (offset, length)
        head = self.tables["head"][0]
        (self.units_per_em,) = struct.unpack_from(">H", data, head + 18)
        self.bbox = struct.unpack_from(">4h", data, head + 36)
        hhea = self.tables["hhea"][0]
        self.ascent, self.descent = struct.unpack_from(">hh", data, hhea + 4)
        (self.metrics,) = struct.unpack_from(">H", data, hhea + 34)
        self.cap_height = self.ascent * 0.7
        if "OS/2" in self.tables:
            os2, length = self.tables["OS/2"]
            if length >= 90:
                (self.cap_height,) = struct.unpack_from(">h", data, os2 + 88)
        self.postscript_name = self._name(6) or os.path.splitext(os.path.basename(path))[0]
        self._read_cmap()

    def glyph(self, code: int) -> int | None:
        """The glyph id for a Unicode code point, ``None`` if the face has none."""
        position = bisect_right(self._starts, code) - 1
        if position < 0 or code > self._ends[position]:
            return None
        glyph = self._lookup[position](code)
        return glyph or None

    def advance(self, glyph: int) -> float:
        """Advance width in thousandths of an em."""
        hmtx = self.tables["hmtx"][0]
        (width,) = struct.unpack_from(">H", self.data, hmtx + 4 * min(glyph, self.metrics - 1))
        return width * 1000 / self.units_per_em

    def _name(self, name_id: int) -> str | None:
        if "name" not in self.tables:
            return None
        offset, _ = self.tables["name"]
        _format, count, strings = struct.unpack_from(">HHH", self.data, offset)
        for number in range(count):
            platform, encoding, language, found, length, at = struct.unpack_from(
                ">6H", self.data, offset + 6 + 12 * number
            )
            if found != name_id:
                continue
            raw = self.data[offset + strings + at : offset + strings + at + length]
            if platform == 3:
                text = raw.decode("utf-16-be", "replace")
            elif platform == 1:
                text = raw.decode("latin-1")
            else:
                continue
            return re.sub(r"[^A-Za-z0-9_.-]", "", text)
        return None

    def _read_cmap(self) -> None:
        data = self.data
        offset, _ = self.tables["cmap"]
        (count,) = struct.unpack_from(">H", data, offset + 2)
        subtables = {}
        for number in range(count):
            platform, encoding, at = struct.unpack_from(">HHI", data, offset + 4 + 8 * number)
            subtables[(platform, encoding)] = offset + at
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._lookup: list = []
        for key in ((3, 10), (0, 4), (0, 6), (3, 1), (0, 3)):
            if key not in subtables:
                continue
            at = subtables[key]
            (form,) = struct.unpack_from(">H", data, at)
            if form == 12:
                (groups,) = struct.unpack_from(">I", data, at + 12)
                for group in range(groups):
                    first, last, glyph = struct.unpack_from(">III", data, at + 16 + 12 * group)
                    self._starts.append(first)
                    self._ends.append(last)
                    self._lookup.append(functools.partial(_offset_glyph, first, glyph))
                return
            if form == 4:
                self._read_format4(at)
                return
        raise ValueError("no Unicode cmap")

    def _read_format4(self, at: int) -> None:
        data = self.data
        (segments,) = struct.unpack_from(">H", data, at + 6)
        segments //= 2
        ends = struct.unpack_from(f">{segments}H", data, at + 14)
        starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
        range_at = at + 16 + 6 * segments
        ranges = struct.unpack_from(f">{segments}H", data, range_at)
        for number in range(segments):
            if starts[number] == 0xFFFF:
                continue
            self._starts.append(starts[number])
            self._ends.append(ends[number])
            self._lookup.append(
                functools.partial(
                    self._format4_glyph,
                    starts[number],
                    deltas[number],
                    ranges[number],
                    range_at + 2 * number,
                )
            )

    def _format4_glyph(self, start: int, delta: int, range_offset: int, at: int, code: int):
        if range_offset == 0:
            return (code + delta) & 0xFFFF
        (glyph,) = struct.unpack_from(">H", self.data, at + range_offset + 2 * (code - start))
        return (glyph + delta) & 0xFFFF if glyph else 0


def _offset_glyph(first: int, glyph: int, code: int) -> int:
    return glyph + code - first
