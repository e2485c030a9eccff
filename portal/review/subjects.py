"""What counsel reviews: a document version or a bundle version, seen through one interface.

The review machine (``services``) moves either through the same states with the same guard; what
differs (what is signed, where its pages are, which comments belong to it) is answered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy import ColumnElement

from ..bundles.models import Bundle
from ..cases.models import Case
from ..documents.models import Document, DocumentStatus
from .models import ReviewComment

if TYPE_CHECKING:
    from .models import Approval

#: A version counsel reviews.
Reviewable = Union[Document, Bundle]  # noqa: UP007 - used at run time in isinstance checks


@dataclass(frozen=True)
class Subject:
    """One reviewable version, whichever kind it is."""

    item: Reviewable

    @property
    def is_bundle(self) -> bool:
        return isinstance(self.item, Bundle)

    @property
    def entity(self) -> str:
        """The audit trail's entity name (``document`` or ``bundle``)."""
        return "bundle" if self.is_bundle else "document"

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def case(self) -> Case:
        return self.item.case

    @property
    def version(self) -> int:
        return self.item.version

    @property
    def status(self) -> DocumentStatus:
        return self.item.status

    @property
    def approval(self) -> Approval | None:
        return self.item.approval

    @property
    def for_court(self) -> bool:
        """Filed with the court (a bundle, a statement of claim, an evidence list): it passes
        the prosecution gate at submission and at signing."""
        return self.is_bundle or self.item.kind.for_court

    @property
    def override(self) -> dict[str, Any] | None:
        """Legal's recorded override of a prosecution blocker (a bundle: its pleading's)."""
        return self.item.override

    @property
    def name(self) -> str:
        """How a sentence names it: "demand letter", "filing bundle"."""
        return "filing bundle" if self.is_bundle else self.item.kind.label.lower()

    @property
    def title(self) -> str:
        """How a heading names it: "Demand letter", "Filing bundle"."""
        return "Filing bundle" if self.is_bundle else self.item.kind.label

    @property
    def reference(self) -> str:
        if self.is_bundle:
            return f"{self.case.reference}/bundle/v{self.version}"
        return self.item.reference

    @property
    def created_by_id(self) -> int | None:
        return self.item.created_by_id

    @property
    def page_link(self) -> str:
        return f"/bundles/{self.id}" if self.is_bundle else f"/documents/{self.id}"

    @property
    def review_link(self) -> str:
        return f"/bundles/{self.id}#review" if self.is_bundle else f"/documents/{self.id}/review"

    @property
    def reviewed_sha256(self) -> str:
        """The bytes counsel reviews: the PDF, or for a bundle its zip (volumes, originals,
        manifest)."""
        return self.item.zip_sha256 if self.is_bundle else self.item.pdf_sha256

    def comment_of(self) -> dict[str, int]:
        """The foreign key a new comment on this version carries."""
        return {"bundle_id": self.id} if self.is_bundle else {"document_id": self.id}

    def own_comments(self) -> ColumnElement[bool]:
        """Comments on this version."""
        if self.is_bundle:
            return ReviewComment.bundle_id == self.id
        return ReviewComment.document_id == self.id

    def not_ready(self) -> str | None:
        """Why this version cannot go to counsel, if it cannot."""
        if self.is_bundle:
            bundle = self.item
            if bundle.pleading_id is None:
                return (
                    "The bundle binds no statement of claim: generate a final one, then build "
                    "a new bundle version."
                )
            if not bundle.final:
                return (
                    "The evidence list in this bundle is a draft (see the warnings: fields the "
                    "case does not fill, or a prosecution blocker). Deal with them, then build "
                    "a new version."
                )
            failed = [str(report.get("volume", "?")) for report in bundle.preflight
                      if not report.get("passed", True)]  # fmt: skip
            if failed:
                return (
                    f"Volume(s) {', '.join(failed)} failed the court's preflight; build a new "
                    "version with another profile or fix the exhibits."
                )
        elif not self.item.final or self.item.missing_fields:
            return "Only a final version goes to counsel: generate it as final (no missing fields)."
        if self.case.lawyer is None:
            return f"Assign a lawyer to the case before submitting the {self.name} for review."
        return None


def subject(item: Reviewable | Subject) -> Subject:
    """``item`` seen as a review subject."""
    return item if isinstance(item, Subject) else Subject(item)
