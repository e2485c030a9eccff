"""CID-keyed CFF font programs (the ``CFF `` table): read in place, and subset to the glyphs
used, with only the subroutines those call (renumbered)."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from .cff_format import (
    CHARSET,
    CHARSTRINGS,
    ENCODING,
    FDARRAY,
    FDSELECT,
    PRIVATE,
    ROS,
    SUBRS,
    Index,
    build_dict,
    build_index,
    charstring_number,
    parse_dict,
    subr_bias,
)


class Unsupported(Exception):
    """A charstring this subsetter does not follow (e.g. computed subroutine numbers)."""


class Cff:
    """A CID-keyed CFF font program (the ``CFF `` table), read in place."""

    def __init__(self, data, offset: int, length: int) -> None:
        self.data = data
        self.offset = offset
        header_size = data[offset + 2]
        names = Index(data, offset + header_size)
        self.name = names[0]
        top_dicts = Index(data, names.end)
        self.top = parse_dict(top_dicts[0])
        self.strings_at = top_dicts.end
        strings = Index(data, top_dicts.end)
        self.strings_raw = bytes(data[top_dicts.end : strings.end])
        self.global_subrs = Index(data, strings.end)
        top = {operator: operands for operator, operands in self.top}
        if ROS not in top or FDSELECT not in top or FDARRAY not in top:
            raise ValueError("not a CID-keyed CFF font")
        registry, ordering, supplement = (value for value, _raw in top[ROS])
        self.ros = (
            self._string(int(registry)),
            self._string(int(ordering)),
            int(supplement),
        )
        self.charstrings = Index(data, offset + int(top[CHARSTRINGS][0][0]))
        self.glyph_count = len(self.charstrings)
        self._cids = self._read_charset(offset + int(top[CHARSET][0][0]))
        self._fds = self._read_fdselect(offset + int(top[FDSELECT][0][0]))
        font_dicts = Index(data, offset + int(top[FDARRAY][0][0]))
        self.font_dicts = []
        for number in range(len(font_dicts)):
            entries = parse_dict(font_dicts[number])
            private = {operator: operands for operator, operands in entries}.get(PRIVATE)
            private_entries, subrs = [], None
            if private:
                size, at = (int(value) for value, _raw in private)
                private_entries = parse_dict(bytes(data[offset + at : offset + at + size]))
                local = {operator: operands for operator, operands in private_entries}
                if SUBRS in local:
                    subrs = Index(data, offset + at + int(local[SUBRS][0][0]))
            self.font_dicts.append((entries, private_entries, subrs))

    def _string(self, sid: int) -> str:
        standard = 391  # strings 0..390 are CFF's standard strings; ROS uses custom ones
        if sid < standard:
            raise ValueError("ROS names a standard string")
        return Index(self.data, self.strings_at)[sid - standard].decode("latin-1")

    def _read_charset(self, at: int) -> list[int]:
        data = self.data
        form = data[at]
        cids = [0]
        at += 1
        if form == 0:
            cids += struct.unpack_from(f">{self.glyph_count - 1}H", data, at)
        else:
            while len(cids) < self.glyph_count:
                if form == 1:
                    first, left = struct.unpack_from(">HB", data, at)
                    at += 3
                else:
                    first, left = struct.unpack_from(">HH", data, at)
                    at += 4
                cids.extend(range(first, first + left + 1))
        return cids[: self.glyph_count]

    def _read_fdselect(self, at: int) -> bytes:
        data = self.data
        form = data[at]
        if form == 0:
            return bytes(data[at + 1 : at + 1 + self.glyph_count])
        if form != 3:
            raise ValueError(f"FDSelect format {form}")
        (ranges,) = struct.unpack_from(">H", data, at + 1)
        fds = bytearray(self.glyph_count)
        for number in range(ranges):
            first, fd = struct.unpack_from(">HB", data, at + 3 + 3 * number)
            (following,) = struct.unpack_from(">H", data, at + 3 + 3 * (number + 1))
            fds[first:following] = bytes([fd]) * (following - first)
        return bytes(fds)

    def cid(self, glyph: int) -> int:
        return self._cids[glyph]

    def subset(self, glyphs: Iterable[int]) -> bytes:
        """A CID-keyed CFF with only ``glyphs`` (and .notdef), keeping their CIDs, and only the
        subroutines they call (renumbered)."""
        order = [0] + sorted(set(glyphs) - {0})
        walker = _CharstringWalker(self)
        try:
            for glyph in order:
                walker.run_glyph(glyph)
            return walker.build(order)
        except (IndexError, KeyError, ValueError, struct.error) as error:
            raise Unsupported(f"damaged or unexpected font program: {error!r}") from error


class _CharstringWalker:
    """Follows Type 2 charstrings to find the subroutines used, then writes the subset."""

    def __init__(self, cff: Cff) -> None:
        self.cff = cff
        #: (kind, fd, number) → [(start, end, callee kind, callee number)]; kind "c" glyph,
        #: "g" global subroutine, "l" local subroutine (of font dict fd).
        self.calls: dict[tuple, list[tuple[int, int, str, int]]] = {}
        self.used_global: set[int] = set()
        self.used_local: dict[int, set[int]] = {}
        self.globals_call_locals = False

    def run_glyph(self, glyph: int) -> None:
        fd = self.cff._fds[glyph]
        state = {"stems": 0, "stack": [], "fd": fd}
        self._run(("c", fd, glyph), self.cff.charstrings[glyph], state, 0)

    def _program(self, key: tuple) -> bytes:
        kind, fd, number = key
        if kind == "c":
            return self.cff.charstrings[number]
        if kind == "g":
            return self.cff.global_subrs[number]
        return self.cff.font_dicts[fd][2][number]

    def _run(self, key: tuple, code: bytes, state: dict, depth: int) -> str:
        if depth > 12:
            raise Unsupported("subroutines nested too deep")
        first_visit = key not in self.calls
        calls = self.calls.setdefault(key, [])
        stack = state["stack"]
        at = 0
        while at < len(code):
            byte = code[at]
            if byte >= 32 or byte == 28:
                if byte == 28:
                    value, end = struct.unpack_from(">h", code, at + 1)[0], at + 3
                elif byte <= 246:
                    value, end = byte - 139, at + 1
                elif byte <= 250:
                    value, end = (byte - 247) * 256 + code[at + 1] + 108, at + 2
                elif byte <= 254:
                    value, end = -(byte - 251) * 256 - code[at + 1] - 108, at + 2
                else:
                    value, end = None, at + 5  # 16.16 fixed: never a subroutine number
                stack.append((value, at, end, key))
                at = end
                continue
            if byte == 12:
                at += 2
                stack.clear()  # flex and arithmetic: results are not subroutine numbers
                continue
            at += 1
            if byte in (1, 3, 18, 23):  # stem hints
                state["stems"] += len(stack) // 2
                stack.clear()
            elif byte in (19, 20):  # hintmask, cntrmask: implicit vstem, then the mask bytes
                state["stems"] += len(stack) // 2
                stack.clear()
                at += (state["stems"] + 7) // 8
            elif byte in (10, 29):  # callsubr, callgsubr
                if not stack:
                    raise Unsupported("subroutine call without a number")
                value, start, end, owner = stack.pop()
                if value is None or owner != key:
                    raise Unsupported("computed subroutine number")
                if byte == 29:
                    subrs = self.cff.global_subrs
                    number = value + subr_bias(len(subrs))
                    callee = ("g", None, number)
                    self.used_global.add(number)
                else:
                    subrs = self.cff.font_dicts[state["fd"]][2]
                    if subrs is None:
                        raise Unsupported("local subroutine call without local subroutines")
                    number = value + subr_bias(len(subrs))
                    callee = ("l", state["fd"], number)
                    self.used_local.setdefault(state["fd"], set()).add(number)
                    if key[0] == "g":
                        self.globals_call_locals = True
                if first_visit:
                    calls.append((start, end, callee[0], number))
                if self._run(callee, self._program(callee), state, depth + 1) == "end":
                    return "end"
            elif byte == 11:  # return
                return "return"
            elif byte == 14:  # endchar
                return "end"
            else:
                stack.clear()
        return "end"

    def build(self, order: list[int]) -> bytes:
        cff = self.cff
        new_global = sorted(self.used_global)
        global_numbers = {old: new for new, old in enumerate(new_global)}
        global_bias = subr_bias(len(new_global))
        fds_used = sorted({cff._fds[glyph] for glyph in order})
        fd_numbers = {old: new for new, old in enumerate(fds_used)}
        renumber_locals = not self.globals_call_locals
        local_numbers: dict[int, dict[int, int]] = {}
        local_lists: dict[int, list[int]] = {}
        for fd in fds_used:
            subrs = cff.font_dicts[fd][2]
            used = sorted(self.used_local.get(fd, ()))
            if subrs is None or not used:
                local_lists[fd] = []
                local_numbers[fd] = {}
            elif renumber_locals:
                local_lists[fd] = used
                local_numbers[fd] = {old: new for new, old in enumerate(used)}
            else:
                local_lists[fd] = list(range(len(subrs)))
                local_numbers[fd] = {old: old for old in range(len(subrs))}

        def rewrite(key: tuple, fd: int) -> bytes:
            code = self._program(key)
            out = bytearray()
            at = 0
            for start, end, kind, number in sorted(self.calls.get(key, [])):
                out += code[at:start]
                if kind == "g":
                    out += charstring_number(global_numbers[number] - global_bias)
                else:
                    numbers = local_numbers[fd]
                    out += charstring_number(numbers[number] - subr_bias(len(numbers)))
                at = end
            out += code[at:]
            return bytes(out)

        charstrings = [rewrite(("c", cff._fds[g], g), cff._fds[g]) for g in order]
        # A global subroutine calling local ones is used from glyphs of one font dict only
        # when local numbering is kept (``renumber_locals`` false), so any fd does here.
        global_subrs = [rewrite(("g", None, n), fds_used[0]) for n in new_global]
        privates = []
        for fd in fds_used:
            entries, private_entries, subrs = cff.font_dicts[fd]
            used = set(self.used_local.get(fd, ()))
            local = [rewrite(("l", fd, n), fd) if n in used else b"\x0b" for n in local_lists[fd]]
            privates.append((entries, private_entries, build_index(local) if local else b""))

        header = bytes([1, 0, 4, 4])
        names = build_index([cff.name])
        charset = b"\x00" + b"".join(struct.pack(">H", cff.cid(g)) for g in order[1:])
        fdselect = b"\x00" + bytes(fd_numbers[cff._fds[g]] for g in order)
        charstrings_index = build_index(charstrings)
        global_index = build_index(global_subrs)
        placeholder = {CHARSET: [0], CHARSTRINGS: [0], FDSELECT: [0], FDARRAY: [0]}
        dropped = {ENCODING: [], PRIVATE: []}
        top_size = len(build_index([build_dict(cff.top, placeholder | dropped)]))
        position = len(header) + len(names) + top_size + len(cff.strings_raw) + len(global_index)
        charset_at = position
        fdselect_at = charset_at + len(charset)
        charstrings_at = fdselect_at + len(fdselect)
        fdarray_at = charstrings_at + len(charstrings_index)
        font_dict_size = len(
            build_index([build_dict(entries, {PRIVATE: [0, 0]}) for entries, _p, _l in privates])
        )
        private_at = fdarray_at + font_dict_size
        font_dicts, private_blocks = [], []
        for entries, private_entries, local_index in privates:
            private = build_dict(private_entries, {SUBRS: [0] if local_index else []})
            if local_index:
                private = build_dict(private_entries, {SUBRS: [len(private)]})
            font_dicts.append(build_dict(entries, {PRIVATE: [len(private), private_at]}))
            private_blocks.append(private + local_index)
            private_at += len(private) + len(local_index)
        top = build_dict(
            cff.top,
            {
                CHARSET: [charset_at],
                CHARSTRINGS: [charstrings_at],
                FDSELECT: [fdselect_at],
                FDARRAY: [fdarray_at],
            }
            | dropped,
        )
        return b"".join(
            [
                header,
                names,
                build_index([top]),
                cff.strings_raw,
                global_index,
                charset,
                fdselect,
                charstrings_index,
                build_index(font_dicts),
                *private_blocks,
            ]
        )
