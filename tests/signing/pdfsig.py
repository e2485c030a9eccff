"""Poppler's ``pdfsig`` as an independent second opinion on the portal's signatures."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

PDFSIG = "/usr/bin/pdfsig"

_HEADER = re.compile(r"^Signature #(\d+):\s*$")
_ITEM = re.compile(r"^\s+- (.*?)\s*$")


CERTUTIL = "/usr/bin/certutil"


def run_pdfsig(pdf: bytes, folder: Path, *, trust: bytes | None = None) -> str:
    """Run ``pdfsig`` on the PDF and return what it printed (its exit code says little).

    ``trust`` (a PEM root) makes an NSS database holding only that root, so pdfsig judges the
    certificates against it (else it reports the issuer as not trusted)."""
    path = folder / "pdfsig-input.pdf"
    path.write_bytes(pdf)
    command = [PDFSIG, str(path)]
    if trust is not None:
        nss = folder / "nss"
        nss.mkdir(exist_ok=True)
        (nss / "root.pem").write_bytes(trust)
        database = f"sql:{nss}"
        for step in (
            ["-N", "-d", database, "--empty-password"],
            ["-A", "-d", database, "-n", "root", "-t", "CT,C,C", "-i", str(nss / "root.pem")],
        ):
            subprocess.run([CERTUTIL, *step], capture_output=True, timeout=30, check=True)
        command[1:1] = ["-nssdir", database]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    return result.stdout + result.stderr


def parse_pdfsig(output: str) -> list[dict[str, str | int | bool]]:
    """One dict per ``Signature #N:`` block: ``"Key: value"`` items as strings, bare items
    (``Total document signed``) as ``True``, and the block's number under ``"number"``."""
    signatures: list[dict[str, str | int | bool]] = []
    current: dict[str, str | int | bool] | None = None
    for line in output.splitlines():
        header = _HEADER.match(line)
        if header:
            current = {"number": int(header.group(1))}
            signatures.append(current)
            continue
        item = _ITEM.match(line)
        if current is None or item is None:
            continue
        key, separator, value = item.group(1).partition(": ")
        current[key] = value if separator else True
    return signatures
