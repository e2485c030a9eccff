"""The zip of a bundle version: its volumes, the original files and ``manifest.json``, written
through a temporary file and streamed into the file store (a bundle's zip can be hundreds of MB);
and the same zip remade with the signed volumes once counsel signed them.

PDFs, images and office files are stored as they are (``ZIP_STORED``): they are compressed
already, and deflating them again took most of a large bundle's zip time for a percent or two.
Text (``manifest.json``, notes) is deflated."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..storage import file_store
from .models import Bundle

#: endings of files that are compressed already: stored in the zip as they are
COMPRESSED = frozenset(
    ".pdf .jpg .jpeg .png .gif .webp .heic .tif .tiff .zip .gz .7z .docx .xlsx .pptx .odt "
    ".ods .odp .mp3 .mp4 .m4a".split()
)


def compression(name: str) -> int:
    """How a file named ``name`` goes into the zip: stored if compressed already, else
    deflated."""
    compressed = PurePosixPath(name).suffix.lower() in COMPRESSED
    return zipfile.ZIP_STORED if compressed else zipfile.ZIP_DEFLATED


def volume_name(stem: str, number: int) -> str:
    """A volume's name in the zip."""
    return f"{stem} vol {number}.pdf"


def _manifest_bytes(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False)


def _stored(archive: IO[bytes]) -> str:
    archive.seek(0)
    return file_store().put(archive)[0]


def bundle_zip(
    stem: str,
    volumes: Iterable[Path],
    originals: Iterable[tuple[str, str]],
    manifest: dict[str, Any],
) -> str:
    """Store the zip of ``volumes`` (PDF files, in order), ``originals`` ((name in the zip,
    SHA-256 in the file store)) and ``manifest``; its SHA-256."""
    store = file_store()
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for number, path in enumerate(volumes, 1):
                out.write(path, volume_name(stem, number), compress_type=zipfile.ZIP_STORED)
            for name, sha256 in originals:
                out.write(store.verified_path(sha256), name, compress_type=compression(name))
            out.writestr("manifest.json", _manifest_bytes(manifest))
        return _stored(archive)


def signed_zip(bundle: Bundle, signature: dict[str, Any]) -> str:
    """The bundle's zip remade with its signed volumes (``BundleVolume.signed_sha256``) and a
    ``signature`` entry in ``manifest.json``; its SHA-256 (now in the file store).

    Everything else (the originals, the rest of the manifest) is copied from the reviewed zip.
    """
    store = file_store()
    stem = f"{bundle.case.reference} bundle v{bundle.version}"
    signed = {volume_name(stem, volume.number): volume for volume in bundle.volumes}
    with tempfile.TemporaryFile() as archive:
        with (
            zipfile.ZipFile(store.verified_path(bundle.zip_sha256)) as reviewed,
            zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for info in reviewed.infolist():
                if info.filename in signed:
                    path = store.verified_path(signed[info.filename].signed_sha256)
                    out.write(path, info.filename, compress_type=zipfile.ZIP_STORED)
                elif info.filename == "manifest.json":
                    manifest = json.loads(reviewed.read(info))
                    manifest["signature"] = {
                        **signature,
                        "reviewed_zip_sha256": bundle.zip_sha256,
                        "volumes": [
                            {
                                "number": volume.number,
                                "sha256_reviewed": volume.pdf_sha256,
                                "sha256_signed": volume.signed_sha256,
                            }
                            for volume in bundle.volumes
                        ],
                    }
                    out.writestr(info, _manifest_bytes(manifest))
                else:
                    with reviewed.open(info) as source, out.open(info, "w") as target:
                        shutil.copyfileobj(source, target)
        return _stored(archive)
