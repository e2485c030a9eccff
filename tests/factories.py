"""Objects for tests, built through the services (so they are audited like real ones)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import create_token, hash_password
from portal.audit.services import Actor
from portal.bundles.models import Bundle, BundleVolume
from portal.cases.events import add_event
from portal.cases.models import Case
from portal.cases.services import open_case
from portal.documents.models import Document, DocumentKind, DocumentSource, DocumentStatus
from portal.evidence.models import Evidence, EvidenceKind
from portal.evidence.services import add_evidence
from portal.extensions import db
from portal.jobs.services import create_job
from portal.jurisdictions.rules.ew import PAP_DEBT_ENCLOSURES
from portal.ledger.models import CreditorEntity, Debtor, DebtorKind, Invoice, Jurisdiction
from portal.ledger.rates import confirm, make_row, set_rate
from portal.ledger.services import save_creditor
from portal.ledger.upserts import upsert_invoice
from portal.security import Role
from portal.storage import file_store

PASSWORD = "correct horse battery staple"
ACTOR = Actor(user=None, label="tests")


@cache
def _password_hash() -> str:
    # argon2id is slow on purpose; hash the shared test password once per run.
    return hash_password(PASSWORD)


def make_user(role: Role | str, email: str | None = None, **fields) -> User:
    role = Role(role)
    email = email or f"{role.value}@tests.example"
    user = User(
        email=email,
        name=fields.pop("name", f"{role.value.capitalize()} User"),
        role=role,
        password_hash=_password_hash(),
        firm=fields.pop("firm", "Test Chambers LLP" if role is Role.LAWYER else None),
        licence_number=fields.pop("licence_number", "L-1" if role is Role.LAWYER else None),
        phone=fields.pop("phone", "+1 312 555 0100" if role is Role.LAWYER else None),
        attorney_code=fields.pop("attorney_code", "99001" if role is Role.LAWYER else None),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_creditor(code: str = "CRED") -> CreditorEntity:
    return save_creditor(
        ACTOR,
        None,
        {
            "code": code,
            "legal_name": "Creditor Trading Ltd",
            "registration_id": "01234567",
            "address": "1 High Street, London EC1A 1AA",
            "jurisdiction": "ew",
            "incorporation": "England and Wales",
            "bank_name": "Test Bank",
            "bank_account": "GB00TEST00000000000000",
            "bank_code": "TESTGB00",
        },
    )


def make_invoice(
    external_id: str,
    debtor: str = "D-1",
    *,
    amount: str = "1000.00",
    currency: str = "GBP",
    issue: dt.date = dt.date(2025, 1, 10),
    due: dt.date = dt.date(2025, 2, 9),
    delivery: dt.date | None = dt.date(2025, 1, 8),
    rate: str | None = None,
    creditor: str | None = None,
) -> Invoice:
    invoice, _created = upsert_invoice(
        ACTOR,
        external_id,
        {
            "debtor": debtor,
            "creditor": creditor,
            "number": f"INV-{external_id}",
            "issue_date": issue,
            "delivery_date": delivery,
            "due_date": due,
            "currency": currency,
            "amount": Decimal(amount),
            "contract_ref": None,
            "interest_rate": Decimal(rate) if rate else None,
        },
    )
    return invoice


#: Synthetic reference rates (tests do not depend on the shipped table's figures).
TEST_RATES = [
    ("boe_base", dt.date(2024, 8, 1), "5.00"),
    ("boe_base", dt.date(2024, 11, 7), "4.75"),
    ("ecb_ref", dt.date(2024, 6, 12), "4.25"),
    ("lpr_1y", dt.date(2024, 10, 21), "3.10"),
    ("us_il_statutory", dt.date(1990, 1, 1), "5.00"),
]


def make_rates(through: dt.date | None = None) -> None:
    """The synthetic table, confirmed complete through ``through`` (today by default)."""
    for kind, valid_from, rate in TEST_RATES:
        set_rate(ACTOR, make_row(kind, valid_from, Decimal(rate), "test figure"))
    for kind in sorted({kind for kind, _, _ in TEST_RATES}):
        confirm(ACTOR, kind, through or dt.date.today(), "test table: complete by construction")


def make_debtor(external_id: str = "D-1", jurisdiction: str = "ew") -> Debtor:
    debtor = Debtor(
        external_id=external_id,
        name=f"Debtor {external_id} Ltd",
        kind=DebtorKind.COMPANY,
        registration_id="99999999",
        address="2 Low Road, Leeds LS1 1AA",
        jurisdiction=Jurisdiction(jurisdiction),
        legal_representative="Dana Director",
    )
    db.session.add(debtor)
    db.session.flush()
    return debtor


def make_individual(
    external_id: str, title: str | None = "Mr", surname: str | None = "Whitfield"
) -> Debtor:
    """A sole trader in England (a PAP-Debt letter's addressee), with title and surname."""
    debtor = Debtor(
        external_id=external_id,
        name="Thomas Whitfield t/a Whitfield Joinery",
        kind=DebtorKind.INDIVIDUAL,
        address="3 Orchard Close, Ledbury HR8 2AB",
        jurisdiction=Jurisdiction.EW,
        title=title,
        surname=surname,
    )
    db.session.add(debtor)
    db.session.flush()
    return debtor


@dataclass
class World:
    """Ids of a small, complete set of objects (ids survive the app context)."""

    admin: int
    legal: int
    finance: int
    lawyer: int
    other_lawyer: int
    creditor: int
    assigned_case: int
    other_case: int
    admin_token_id: int
    assigned_evidence: int
    other_evidence: int
    assigned_document: int
    other_document: int
    legal_job: int
    assigned_bundle: int
    other_bundle: int

    EMAILS = {
        "admin": "admin@tests.example",
        "legal": "legal@tests.example",
        "finance": "finance@tests.example",
        "lawyer": "lawyer@tests.example",
        "other_lawyer": "other.lawyer@tests.example",
    }


def build_world() -> World:
    users = {
        "admin": make_user(Role.ADMIN),
        "legal": make_user(Role.LEGAL),
        "finance": make_user(Role.FINANCE),
        "lawyer": make_user(Role.LAWYER),
        "other_lawyer": make_user(Role.LAWYER, "other.lawyer@tests.example", name="Other Lawyer"),
    }
    creditor = make_creditor()
    make_rates()
    first, second = make_debtor("D-1"), make_debtor("D-2", "cn")
    assigned = open_case(
        ACTOR,
        debtor=first,
        owner=users["legal"],
        lawyer=users["lawyer"],
        invoices=[make_invoice("I-1"), make_invoice("I-2", amount="2500.00")],
    )
    other = open_case(
        ACTOR,
        debtor=second,
        owner=users["legal"],
        lawyer=users["other_lawyer"],
        invoices=[make_invoice("I-3", "D-2", currency="CNY", amount="88000.00")],
    )
    token, _plain = create_token(ACTOR, users["admin"], "admin token")
    notes = [
        add_evidence(ACTOR, case, f"Note on {case.reference}".encode(), "note.txt",
                     {"kind": EvidenceKind.CORRESPONDENCE})
        for case in (assigned, other)
    ]  # fmt: skip
    documents = [stored_document(case) for case in (assigned, other)]
    bundles = [stored_bundle(case) for case in (assigned, other)]
    job = create_job(
        Actor(user=users["legal"]), "documents.bulk", "test job", {"cases": []}, total=0
    )
    return World(
        admin=users["admin"].id,
        legal=users["legal"].id,
        finance=users["finance"].id,
        lawyer=users["lawyer"].id,
        other_lawyer=users["other_lawyer"].id,
        creditor=creditor.id,
        assigned_case=assigned.id,
        other_case=other.id,
        admin_token_id=token.id,
        assigned_evidence=notes[0].id,
        other_evidence=notes[1].id,
        assigned_document=documents[0].id,
        other_document=documents[1].id,
        legal_job=job.id,
        assigned_bundle=bundles[0].id,
        other_bundle=bundles[1].id,
    )


def stored_document(case: Case, kind: str = "evidence_list") -> Document:
    """A document row over placeholder bytes, for tests of access and listing only (the
    generation tests make real ones through LibreOffice)."""
    store = file_store()
    docx_sha, _ = store.put(b"PK placeholder docx for " + case.reference.encode())
    pdf_sha, _ = store.put(b"%PDF-1.4 placeholder for " + case.reference.encode())
    document = Document(
        case_id=case.id,
        kind=DocumentKind(kind),
        version=1,
        status=DocumentStatus.DRAFT,
        source=DocumentSource.GENERATED,
        final=False,
        reference=f"T-{case.id}",
        template=f"{case.jurisdiction.value}/{kind}.docx",
        template_sha256="0" * 64,
        context={},
        missing_fields=[],
        docx_sha256=docx_sha,
        pdf_sha256=pdf_sha,
        pages=1,
        document_date=dt.date(2026, 11, 23),
    )
    db.session.add(document)
    db.session.flush()
    return document


def stored_bundle(case: Case) -> Bundle:
    """A bundle row over placeholder bytes, for tests of access only (the bundle tests build
    real ones)."""
    store = file_store()
    pdf_sha, size = store.put(b"%PDF-1.4 placeholder bundle of " + case.reference.encode())
    zip_sha, _ = store.put(b"PK placeholder bundle zip of " + case.reference.encode())
    bundle = Bundle(
        case_id=case.id,
        version=1,
        status=DocumentStatus.DRAFT,
        profile="default",
        arrangement="kind",
        label_prefix="C-",
        pages=1,
        manifest={},
        zip_sha256=zip_sha,
    )
    bundle.volumes.append(
        BundleVolume(number=1, pdf_sha256=pdf_sha, pages=1, bytes=size, first_page=1, last_page=1)
    )
    db.session.add(bundle)
    db.session.flush()
    return bundle


def token_for(email: str) -> str:
    """A fresh API token for the user with this e-mail (inside an app context)."""
    user = db.session.scalar(db.select(User).where(User.email == email))
    _token, plain = create_token(ACTOR, user, "test")
    db.session.commit()
    return plain


def case_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Case))


def add_delivery_notes(case_id: int) -> None:
    """A signed, sealed original delivery note and an invoice delivery proof per invoice."""
    case = db.session.get(Case, case_id)
    for invoice in case.invoices:
        for kind in (EvidenceKind.DELIVERY_NOTE, EvidenceKind.INVOICE_DELIVERY_PROOF):
            add_evidence(
                ACTOR,
                case,
                f"{kind.value} for {invoice.number}".encode(),
                f"{kind.value}-{invoice.number}.txt",
                {
                    "kind": kind,
                    "document_date": invoice.issue_date,
                    "signed_by_debtor": True,
                    "sealed": True,
                    "original_held": True,
                    "signer": "Goods-in clerk",
                    "source": "debtor",
                    "proves": f"delivery of the goods of {invoice.number}",
                },
                invoice_keys=[invoice.external_id],
            )


def ready_for_prosecution(case: Case, *, delivered_on: dt.date | None = None) -> None:
    """Clear the case's prosecution blockers the way legal would: a delivery note signed by the
    debtor for each invoice, every evidence item described, and a demand letter delivered on
    ``delivered_on`` (default: 60 days ago, so its reply period of at most 30 days is over) with
    the courier's proof of delivery."""
    delivered_on = delivered_on or dt.date.today() - dt.timedelta(days=60)
    for invoice in case.invoices:
        add_evidence(
            ACTOR,
            case,
            f"Delivery note for {invoice.number}, signed for the debtor".encode(),
            f"delivery-{invoice.external_id}.txt",
            {
                "kind": EvidenceKind.DELIVERY_NOTE,
                "document_date": invoice.issue_date,
                "signed_by_debtor": True,
                "original_held": True,
                "signer": "J. Smith, warehouse manager",
                "source": "Our warehouse records",
                "proves": f"The goods of invoice {invoice.number} were delivered.",
            },
            invoice_keys=[invoice.external_id],
        )
    for item in db.session.scalars(select(Evidence).where(Evidence.case_id == case.id)):
        item.document_date = item.document_date or dt.date(2025, 3, 1)
        item.source = item.source or "Our correspondence file"
        item.proves = item.proves or "What was said to the debtor about the debt."
    sent_on = delivered_on - dt.timedelta(days=2)
    add_event(
        ACTOR,
        case,
        {
            "type": "dispatch",
            "date": sent_on,
            "document": "demand_letter",
            "courier": "Royal Mail Special Delivery",
            "tracking": f"RM{case.id:06d}GB",
            "delivered_on": delivered_on,
            # PAP-Debt (E&W individuals): the letter of claim went with its annexes.
            "enclosures": list(PAP_DEBT_ENCLOSURES),
        },
    )
    add_evidence(
        ACTOR,
        case,
        f"Proof of delivery RM{case.id:06d}GB".encode(),
        "proof-of-delivery.txt",
        {
            "kind": EvidenceKind.DISPATCH_PROOF,
            "document_date": delivered_on,
            "source": "Courier's tracking page",
            "proves": "The demand letter reached the debtor.",
        },
    )
    db.session.flush()
