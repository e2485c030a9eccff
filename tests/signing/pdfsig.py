"""Poppler's ``pdfsig`` as an independent second opinion on the portal's signatures."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

PDFSIG = "/usr/bin/pdfsig"

_HEADER = re.compile(r"^Signature #(\d+):\s*$")
_ITEM = re.compile(r"^\s+- (.*?)\s*$")


def run_pdfsig(pdf: bytes, folder: Path) -> str:
    """Run ``pdfsig`` on the PDF and return what it printed (its exit code says little)."""
    path = folder / "pdfsig-input.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [PDFSIG, str(path)], capture_output=True, text=True, timeout=30, check=False
    )
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
