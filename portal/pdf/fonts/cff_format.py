"""CFF's building blocks, read in place and written: INDEX, DICT and charstring numbers."""

from __future__ import annotations

import struct


class Index:
    """A CFF INDEX read in place: ``len``, ``[i]`` and where it ends."""

    def __init__(self, data, at: int) -> None:
        self.data = data
        (self.count,) = struct.unpack_from(">H", data, at)
        if self.count == 0:
            self.end = at + 2
            return
        self.size = data[at + 2]
        self.offsets = at + 3
        self.base = at + 3 + (self.count + 1) * self.size - 1
        self.end = self.base + self._offset(self.count)

    def _offset(self, number: int) -> int:
        at = self.offsets + number * self.size
        return int.from_bytes(self.data[at : at + self.size], "big")

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, number: int) -> bytes:
        if not 0 <= number < self.count:
            raise IndexError(number)
        return bytes(
            self.data[self.base + self._offset(number) : self.base + self._offset(number + 1)]
        )


def build_index(items: list[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = (
        1
        if offsets[-1] < 1 << 8
        else 2
        if offsets[-1] < 1 << 16
        else 3
        if offsets[-1] < 1 << 24
        else 4
    )
    return (
        struct.pack(">HB", len(items), size)
        + b"".join(offset.to_bytes(size, "big") for offset in offsets)
        + b"".join(items)
    )


# DICT operators (two-byte ones as 1200 + second byte)
CHARSET, CHARSTRINGS, PRIVATE, SUBRS = 15, 17, 18, 19
ROS, FDARRAY, FDSELECT = 1230, 1236, 1237
ENCODING = 16


def parse_dict(raw: bytes) -> list[tuple[int, list[tuple[float | None, bytes]]]]:
    """A CFF DICT as (operator, [(value, encoded operand)]) in order; reals keep no value."""
    entries = []
    operands: list[tuple[float | None, bytes]] = []
    at = 0
    while at < len(raw):
        byte = raw[at]
        if byte <= 21:
            if byte == 12:
                operator, at = 1200 + raw[at + 1], at + 2
            else:
                operator, at = byte, at + 1
            entries.append((operator, operands))
            operands = []
        elif byte == 28:
            operands.append((struct.unpack_from(">h", raw, at + 1)[0], raw[at : at + 3]))
            at += 3
        elif byte == 29:
            operands.append((struct.unpack_from(">i", raw, at + 1)[0], raw[at : at + 5]))
            at += 5
        elif byte == 30:
            end = at + 1
            while not (raw[end] & 0x0F == 0x0F or raw[end] >> 4 == 0x0F):
                end += 1
            operands.append((None, raw[at : end + 1]))
            at = end + 1
        elif 32 <= byte <= 246:
            operands.append((byte - 139, raw[at : at + 1]))
            at += 1
        elif 247 <= byte <= 250:
            operands.append(((byte - 247) * 256 + raw[at + 1] + 108, raw[at : at + 2]))
            at += 2
        elif 251 <= byte <= 254:
            operands.append((-(byte - 251) * 256 - raw[at + 1] - 108, raw[at : at + 2]))
            at += 2
        else:
            raise ValueError(f"bad DICT byte {byte}")
    return entries


def _operator(operator: int) -> bytes:
    return bytes([12, operator - 1200]) if operator >= 1200 else bytes([operator])


def build_dict(entries, replacements: dict[int, list[int]]) -> bytes:
    """A DICT with ``replacements`` (operator → integer operands, written as 5-byte integers,
    so the size does not depend on them) instead of, or after, the original entries."""
    out = bytearray()
    for operator, operands in entries:
        if operator in replacements:
            continue
        out += b"".join(raw for _value, raw in operands) + _operator(operator)
    for operator, values in replacements.items():
        if values:
            out += b"".join(b"\x1d" + struct.pack(">i", value) for value in values)
            out += _operator(operator)
    return bytes(out)


def subr_bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


def charstring_number(value: int) -> bytes:
    if -107 <= value <= 107:
        return bytes([value + 139])
    if 108 <= value <= 1131:
        value -= 108
        return bytes([(value >> 8) + 247, value & 0xFF])
    if -1131 <= value <= -108:
        value = -value - 108
        return bytes([(value >> 8) + 251, value & 0xFF])
    return b"\x1c" + struct.pack(">h", value)
