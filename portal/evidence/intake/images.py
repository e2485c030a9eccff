"""JPEG, PNG, TIFF and HEIC images: pixel counts from the headers before any decoding, then the
data checked to the end."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from .base import JPEG, PNG, TIFF, Limits, UploadRejected

_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG", JPEG),
    (b"\x89PNG\r\n\x1a\n", "PNG", PNG),
    (b"II*\x00", "TIFF", TIFF),
    (b"MM\x00*", "TIFF", TIFF),
    (b"II+\x00", "TIFF", TIFF),  # BigTIFF
    (b"MM\x00+", "TIFF", TIFF),
)

_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

_ORIENTATION = 0x0112


def _pixel_bomb(limits: Limits) -> UploadRejected:
    return UploadRejected(
        422,
        "pixel_bomb",
        f"This image is too large (over {limits.max_pixels:,} pixels) to process safely. "
        "Please upload a smaller image or scan at a lower resolution.",
    )


def _corrupt_image() -> UploadRejected:
    return UploadRejected(
        422,
        "corrupt_image",
        "This image is damaged or incomplete. Please upload the original file again.",
    )


def _inspect_image(data: bytes, pil_format: str, limits: Limits) -> tuple[int, int, int]:
    """Pages, width and height; pixel counts are checked from the headers, before decoding."""
    # Pillow warns above its global MAX_IMAGE_PIXELS (left as it is) and raises above twice
    # that. Its warnings — that one, and those about odd metadata — are silenced here rather
    # than let out to the caller; ``limits.max_pixels`` decides, per frame, below Pillow's error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                frames = image.n_frames if pil_format == "TIFF" else 1
                if frames > limits.max_pdf_pages:
                    raise UploadRejected(
                        422,
                        "too_many_pages",
                        f"This image has {frames:,} pages, more than the "
                        f"{limits.max_pdf_pages:,} allowed. Please split it into smaller files.",
                    )
                for frame in range(frames):
                    if frame:
                        image.seek(frame)
                    if image.width * image.height > limits.max_pixels:
                        raise _pixel_bomb(limits)
                image.seek(0)
                width, height = image.size
                if image.getexif().get(_ORIENTATION) in (5, 6, 7, 8):
                    width, height = height, width
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                image.verify()  # PNG: every chunk's CRC up to IEND
            if pil_format == "JPEG":
                # Decoding at 1/8 scale still walks all the compressed data, so a JPEG cut
                # short is caught without allocating the full-size picture.
                with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                    image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                    image.load()
        except UploadRejected:
            raise
        except Image.DecompressionBombError:
            raise _pixel_bomb(limits) from None
        except Exception:  # Pillow signals bad data with many exception types
            raise _corrupt_image() from None
    return frames, width, height


def _is_heif(head: bytes) -> bool:
    if head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_size, len(head)), 4)}
    return bool(brands & _HEIF_BRANDS) and b"avif" not in brands


def _heif_opener() -> bool:
    """Whether Pillow can read HEIC here (the optional ``pillow-heif`` package)."""
    try:
        import pillow_heif  # a dependency, but HEIC is refused cleanly without it
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _inspect_heif(data: bytes, limits: Limits) -> tuple[int, int, int]:
    if not _heif_opener():
        raise UploadRejected(
            415,
            "heic_unsupported",
            "HEIC photos (the iPhone format) are not accepted yet. Please convert the photo to "
            "JPEG (on the iPhone: Settings > Camera > Formats > Most Compatible) and upload it.",
        )
    return _inspect_image(data, "HEIF", limits)
