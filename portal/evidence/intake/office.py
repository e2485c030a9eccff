"""DOCX, XLSX and ODT (zip-based): zip and XML bombs, macros and encryption refused, every part
unpacked as a stream with its size counted."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import BinaryIO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from .base import CHUNK, DOCX, MB, ODT, XLSX, Limits, UploadRejected, _human_size, _not_allowed

#: Entries smaller than this are not held to the compression-ratio limit: small, repetitive XML
#: compresses very well and is harmless.
_RATIO_FLOOR = MB


class _TooMuchData(Exception):
    """More bytes came out of an archive than declared or allowed."""


class _CappedReader:
    """A read-only view of one archive entry that counts what comes out and stops at a cap."""

    def __init__(self, raw: BinaryIO, declared: int, budget: list[int]) -> None:
        self._raw = raw
        self._left = declared
        self._budget = budget  # a one-element list: the bytes the whole archive may still unpack

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else min(size, CHUNK)
        chunk = self._raw.read(size)
        self._left -= len(chunk)
        self._budget[0] -= len(chunk)
        if self._left < 0 or self._budget[0] < 0:
            raise _TooMuchData
        return chunk

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


def _zip_bomb(limits: Limits) -> UploadRejected:
    return UploadRejected(
        422,
        "zip_bomb",
        "This document unpacks to far more data or parts than a real document has "
        f"(limits: {_human_size(limits.max_unpacked_bytes)}, {limits.max_zip_entries:,} parts). "
        "Please save it again from Word, Excel or LibreOffice, or upload it as a PDF.",
    )


def _corrupt_document() -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_document",
        "This document is damaged and cannot be opened. "
        "Please save it again from Word, Excel or LibreOffice, or upload it as a PDF.",
    )


def _encrypted_document() -> UploadRejected:
    return UploadRejected(
        422,
        "encrypted_document",
        "This document is password-protected. Please upload an unencrypted copy.",
    )


def _macro_rejected() -> UploadRejected:
    return UploadRejected(
        415,
        "macro",
        "This document contains macros, which are not accepted. Please save it as a normal "
        "document without macros (.docx, .xlsx or .odt) or as a PDF and upload that.",
    )


def _inspect_zip(data: bytes, limits: Limits) -> str:
    # Counting central-directory signatures first keeps a file claiming a million parts from
    # costing a million ZipInfo objects; the count is re-checked on the parsed directory.
    if data.count(b"PK\x01\x02") > limits.max_zip_entries:
        raise _zip_bomb(limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _corrupt_document() from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise _zip_bomb(limits)
        if len({info.filename for info in infos}) != len(infos):
            raise _corrupt_document()  # two parts of one name: readers disagree on which counts
        if sum(info.file_size for info in infos) > limits.max_unpacked_bytes:
            raise _zip_bomb(limits)
        for info in infos:
            if info.file_size > _RATIO_FLOOR and (
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
            ):
                raise _zip_bomb(limits)
            if info.flag_bits & 0x1:
                raise _encrypted_document()
        media_type = _office_type(archive, infos)
        _read_parts(archive, infos, limits)
    return media_type


def _office_type(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> str:
    names = {info.filename for info in infos}
    lowered = {name.lower() for name in names}
    if any(
        name.endswith("vbaproject.bin")  # OOXML macros (.docm/.xlsm under another name)
        or "/activex/" in name
        or name.startswith(("basic/", "scripts/"))  # OpenDocument macros
        for name in lowered
    ):
        raise _macro_rejected()
    try:
        if "[Content_Types].xml" in names:
            with archive.open("[Content_Types].xml") as part:
                content_types = part.read(MB).lower()
            if b"macroenabled" in content_types:
                raise _macro_rejected()
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
        elif infos[0].filename == "mimetype" and infos[0].file_size <= 100:
            declared = archive.read(infos[0]).strip()
            if declared == ODT.encode() and "content.xml" in names:
                if "META-INF/manifest.xml" in names:
                    with archive.open("META-INF/manifest.xml") as part:
                        if b"encryption-data" in part.read(MB):
                            raise _encrypted_document()
                return ODT
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
        raise _corrupt_document() from None
    raise _not_allowed()


def _read_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Unpack every entry as a stream, counting the bytes, and parse the XML parts safely."""
    budget = [limits.max_unpacked_bytes]
    try:
        for info in infos:
            if info.is_dir():
                continue
            with archive.open(info) as raw:
                reader = _CappedReader(raw, info.file_size, budget)
                if info.filename.lower().endswith((".xml", ".rels")):
                    # Entity definitions (billion laughs) and external references (XXE) are
                    # refused at the DOCTYPE, before anything is expanded.
                    for _event, element in iterparse(reader, events=("end",), forbid_dtd=True):
                        element.clear()
                    reader.drain()
                else:
                    reader.drain()
    except _TooMuchData:
        raise _zip_bomb(limits) from None
    except DefusedXmlException:
        raise UploadRejected(
            422,
            "xml_bomb",
            "This document contains XML entity definitions, which are not allowed because they "
            "can be used to attack the server. Please save it again from Word, Excel or "
            "LibreOffice, or upload it as a PDF.",
        ) from None
    except (
        ParseError,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ):
        raise _corrupt_document() from None
