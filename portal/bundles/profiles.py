"""Court profiles: the limits a court's filing system puts on a bundle.

The figures are the usual ones, not a statement of any court's current rules: courts change them
by notice, so every limit is a plain value here and a deployment can add or adjust profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000  # filing systems state limits in decimal megabytes; the lower reading is safer


@dataclass(frozen=True)
class CourtProfile:
    """What one court accepts; ``None`` means no limit."""

    name: str
    title: str
    #: the largest file the court's system takes; over it the bundle is split into volumes
    max_bytes_per_volume: int | None
    #: the most pages in one volume; over it the bundle is split into volumes
    max_pages_per_volume: int | None
    #: whether the court requires PDF/A (the builder does not convert; preflight warns)
    pdfa_required: bool
    #: the highest image resolution the court wants (renditions are made at or under it)
    max_image_dpi: int


PROFILES: dict[str, CourtProfile] = {
    # No court in particular: one volume, renditions' own 300 dpi cap.
    "default": CourtProfile(
        name="default",
        title="Default (no limits)",
        max_bytes_per_volume=None,
        max_pages_per_volume=None,
        pdfa_required=False,
        max_image_dpi=300,
    ),
    # England & Wales. The Commercial Court Guide and the Chancery Guide ask for bundles in
    # volumes of no more than about 300-350 pages; CE-File (the electronic filing system under
    # PD 51O) takes files of a few tens of MB. Typical values: check the court's current guide.
    "ew_court": CourtProfile(
        name="ew_court",
        title="England & Wales (CE-File)",
        max_bytes_per_volume=50 * MB,
        max_pages_per_volume=350,
        pdfa_required=False,
        max_image_dpi=300,
    ),
    # PRC people's courts' online litigation platforms (人民法院在线服务) take uploads of a few
    # tens of MB per file; no page limit is usual. Typical value: each court's notice governs.
    "cn_court": CourtProfile(
        name="cn_court",
        title="PRC people's court (online filing)",
        max_bytes_per_volume=50 * MB,
        max_pages_per_volume=None,
        pdfa_required=False,
        max_image_dpi=300,
    ),
    # US federal courts, CM/ECF: districts commonly cap one upload at 35-50 MB and recommend
    # (a few require) PDF/A and scans at 300 dpi; 35 MB is the lower, safer end.
    "us_ecf": CourtProfile(
        name="us_ecf",
        title="US federal court (CM/ECF)",
        max_bytes_per_volume=35 * MB,
        max_pages_per_volume=None,
        pdfa_required=False,
        max_image_dpi=300,
    ),
}


def get_profile(name: str) -> CourtProfile:
    """The profile called ``name``.

    :raises ValueError: there is no such profile.
    """
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"Unknown court profile {name!r} (known: {known}).") from None
