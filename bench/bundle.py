"""Filing bundle: the portal's builder against qpdf's bare merge and a naive pypdf build.

    .venv/bin/python bench/bundle.py [--exhibits 200] [--pages 1000] [--memory-pages 5000]

In one run, on the same machine and the same generated exhibit PDFs (text pages with an
embedded font, 1-9 pages each, as evidence renditions are):

* **qpdf** — the floor: ``qpdf --empty --pages <files> -- out.pdf``, merging only: no cover,
  index, stamps, bookmarks or checks;
* **pypdf** — a naive build of the same bundle: pages merged with pypdf, a reportlab overlay
  drawn per page (number and label) and merged with ``merge_page``, an outline item per
  exhibit (no index, no preflight: less than the builder does);
* **portal** — ``build_bundle`` as the bundle job calls it, except that the renditions (already
  sanitised) are given as files (``Part.path``) where the job still reads them into bytes: an
  evidence list rendered with the final page ranges, cover, linked index, stamps on every page,
  bookmarks, page labels, duplicates, preflight of the result, manifest.

Then the builder's peak memory (``VmHWM`` of a fresh process, imports included) at
``--memory-pages``: with the inputs given as files, and again (another fresh process) with
them read into bytes first (``Part.pdf``).

Targets (issue 7): portal ≤ 2 × qpdf; portal ≤ 0.5 × pypdf; ≤ 300 MB at 5,000 pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ON = dt.date(2026, 12, 2)
OUT = Path(__file__).resolve().parent / "out" / "bundle"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = "invoice delivery payment overdue reminder statement account goods order terms".split()


def page_counts(exhibits: int, pages: int, seed: int = 7) -> list[int]:
    """``exhibits`` page counts of 1-9 that add up to ``pages``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    counts = [1] * exhibits
    while sum(counts) < pages:
        n = rng.randrange(exhibits)
        if counts[n] < 9:
            counts[n] += 1
    return counts


def register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "BenchDejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BenchDejaVu", DEJAVU))


def make_inputs(exhibits: int, pages: int, folder: Path) -> list[Path]:
    """Exhibit PDFs (reportlab, DejaVu embedded) in ``folder``, reused when already there."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    folder.mkdir(parents=True, exist_ok=True)
    register_font()
    rng = random.Random(11)  # noqa: S311 - reproducible test data, not secrets
    paths = []
    for number, count in enumerate(page_counts(exhibits, pages)):
        path = folder / f"exhibit-{number:04d}-{count}.pdf"
        paths.append(path)
        if path.exists():
            continue
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, invariant=True, initialFontName="BenchDejaVu")
        for page in range(count):
            canvas.setFont("BenchDejaVu", 10)
            canvas.drawString(60, 780, f"Exhibit {number}, page {page + 1} of {count}")
            for line in range(30):
                text = " ".join(rng.choice(WORDS) for _ in range(12))
                canvas.drawString(60, 750 - 20 * line, text)
            canvas.showPage()
        canvas.save()
        path.write_bytes(buffer.getvalue())
    return paths


def evidence_list(ranges) -> bytes:
    """A plain evidence list: a line per exhibit with its final pages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    register_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, initialFontName="BenchDejaVu")
    for start in range(0, len(ranges), 45):
        canvas.setFont("BenchDejaVu", 10)
        for line, item in enumerate(ranges[start : start + 45]):
            text = f"{item.label}  {item.title}  pp. {item.first_page}–{item.last_page}"
            canvas.drawString(60, 790 - 16 * line, text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def portal_build(paths: list[Path], *, files: bool = True):
    """``build_bundle`` on ``paths``: given as files (``Part.path``) or, with ``files=False``,
    read into bytes first (``Part.pdf``)."""
    from portal.bundles.builder import BundleSpec, Part, build_bundle
    from portal.bundles.profiles import get_profile

    parts = [
        Part(
            kind="exhibit",
            title=f"Exhibit {n}",
            **({"path": path} if files else {"pdf": path.read_bytes()}),
            evidence_id=n,
            evidence_kind=("invoice", "correspondence", "statement")[n % 3],
            date=ON - dt.timedelta(days=n),
            sanitised=True,
        )
        for n, path in enumerate(paths)
    ]
    spec = BundleSpec(
        court="High Court of Justice, King's Bench Division",
        case_reference="KB-2026-000123",
        claimant="Northwind Components Ltd",
        defendant="Bench Customer Ltd",
        version=1,
        on=ON,
    )
    return build_bundle(spec, parts, get_profile("default"), evidence_list_renderer=evidence_list)


def pypdf_build(paths: list[Path]) -> bytes:
    """The naive way: merge, then a reportlab overlay per page merged onto it, outline."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen.canvas import Canvas

    writer = PdfWriter()
    starts = []
    labels = []
    for number, path in enumerate(paths, 1):
        starts.append(len(writer.pages))
        for page in PdfReader(path).pages:
            writer.add_page(page)
            labels.append(f"C-{number:03d}")
    for index, page in enumerate(writer.pages):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(width, height), initialFontName="BenchDejaVu")
        canvas.setFont("BenchDejaVu", 10)
        canvas.drawCentredString(width / 2, 13, str(index + 1))
        canvas.drawRightString(width - 23, height - 33, labels[index])
        canvas.showPage()
        canvas.save()
        page.merge_page(PdfReader(buffer).pages[0])
    for number, start in enumerate(starts, 1):
        writer.add_outline_item(title=f"C-{number:03d} Exhibit {number - 1}", page_number=start)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def memory_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB; unlike ``ru_maxrss``, the
    peak starts afresh at ``exec`` instead of carrying the forking parent's over."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(pages: int, files: bool) -> int:
    """Runs in a fresh process: builds a bundle of ``pages`` (inputs made by the parent) and
    prints the RSS before and the peak RSS after."""
    import portal.bundles.builder  # noqa: F401 - imports counted in the baseline

    folder = OUT / f"inputs-{pages}"
    paths = [folder / f"exhibit-{n:04d}-{count}.pdf" for n, count in
             enumerate(page_counts(pages // 5, pages))]  # fmt: skip

    inputs = sum(path.stat().st_size for path in paths) / 1e6
    before = memory_mb("VmRSS")
    result = portal_build(paths, files=files)
    peak = memory_mb("VmHWM")
    print(f"{before:.0f} {peak:.0f} {inputs:.0f} {result.pages}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exhibits", type=int, default=200)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--memory-pages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N for qpdf and portal")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-bytes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args.memory_child, files=not args.memory_bytes)

    print(f"bench/bundle: {args.exhibits} exhibits, {args.pages} pages in {OUT} …", flush=True)
    paths = make_inputs(args.exhibits, args.pages, OUT / f"inputs-{args.pages}")
    portal_build(paths[:3])  # warm-up: fonts read once per process, as in the job worker

    qpdf_out = OUT / "qpdf.pdf"
    # Alternated, best of each: a shared machine's load changes from second to second, and
    # alternating gives both the same chances.
    qpdf = portal = float("inf")
    for _ in range(args.repeat):
        elapsed, _done = timed(
            subprocess.run, ["qpdf", "--empty", "--pages", *map(str, paths), "--", str(qpdf_out)]
        )
        qpdf = min(qpdf, elapsed)
        elapsed, result = timed(portal_build, paths)
        portal = min(portal, elapsed)
    (OUT / "portal.pdf").write_bytes(result.volumes[0].pdf)
    try:
        import pypdf  # noqa: F401
    except ImportError:
        naive = None
        print("bench/bundle: pypdf is not installed (pip install -e '.[dev]'); no naive run")
    else:
        naive, pdf = timed(pypdf_build, paths)
        (OUT / "pypdf.pdf").write_bytes(pdf)

    print(f"bench/bundle: peak memory at {args.memory_pages} pages (fresh process) …", flush=True)
    make_inputs(args.memory_pages // 5, args.memory_pages, OUT / f"inputs-{args.memory_pages}")
    memory = {}
    for name, flags in (("files", []), ("bytes", ["--memory-bytes"])):
        child = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(args.memory_pages), *flags],
            capture_output=True,
            text=True,
            check=True,
        )
        memory[name] = [int(value) for value in child.stdout.split()[-4:]]
    before, peak, inputs, built = memory["files"]
    held = memory["bytes"][1]

    lines = [
        f"pages    {result.pages} ({args.pages} exhibit pages + cover, index, evidence list)",
        f"qpdf     {qpdf:7.2f} s  (merge only; best of {args.repeat})",
        f"portal   {portal:7.2f} s  (build_bundle, best of {args.repeat}: "
        f"{len(result.volumes)} volume, {len(result.volumes[0].pdf) / 1e6:.1f} MB)",
    ]
    if naive is not None:
        lines.append(f"pypdf    {naive:7.2f} s  (merge + per-page overlay + outline; one run)")
    lines += [
        f"memory   {peak:7.0f} MB peak RSS building {built} pages from files ({before} MB "
        f"before: the interpreter and portal's imports; the build adds {peak - before} MB)",
        f"         {held:7.0f} MB with the {inputs} MB of input PDFs passed as bytes instead "
        f"(Part.pdf)",
        "",
        f"portal / qpdf  = {portal / qpdf:5.2f}  (target <= 2)    "
        + ("OK" if portal / qpdf <= 2 else "MISSED"),
    ]
    if naive is not None:
        lines.append(
            f"portal / pypdf = {portal / naive:5.2f}  (target <= 0.5)  "
            + ("OK" if portal / naive <= 0.5 else "MISSED")
        )
    lines.append(
        f"peak memory    = {peak:5.0f} MB (target <= 300)  "
        + ("OK" if peak <= 300 else "MISSED")
        + f"    (inputs as bytes: {held} MB "
        + ("OK" if held <= 300 else "MISSED")
        + ")"
    )
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
