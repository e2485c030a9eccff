# ruff: noqa: E501  (data tables read best one record per line)
"""Demo data: one user per role (two lawyers), two creditor entities, debtors and cases.

Running it again creates nothing twice. The demo passwords are fixed and printed on purpose:
they exist only in a demo database and are listed in the README.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .accounts.models import User
from .accounts.services import create_user, user_by_email
from .audit.services import Actor
from .cases.events import add_event
from .cases.models import Case
from .cases.services import open_case, set_agreement
from .extensions import db
from .ledger.models import CreditorEntity, Debtor, Invoice
from .ledger.rates import load_file
from .ledger.services import save_creditor
from .ledger.upserts import upsert_debtor, upsert_invoice, upsert_payment

DEMO_USERS = [
    {"email": "admin@arrears-demo.example", "role": "admin", "name": "Alex Admin",
     "password": "demo-admin-pass"},
    {"email": "legal@arrears-demo.example", "role": "legal", "name": "Lena Legal",
     "password": "demo-legal-pass"},
    {"email": "finance@arrears-demo.example", "role": "finance", "name": "Frank Finance",
     "password": "demo-finance-pass"},
    {"email": "lawyer@arrears-demo.example", "role": "lawyer", "name": "Olivia Barrister",
     "password": "demo-lawyer-pass", "firm": "Harcourt & Vale LLP", "licence_number": "SRA-612345",
     "firm_address": "12 Gray's Inn Square\nLondon WC1R 5JP", "phone": "+44 20 7946 0321"},
    {"email": "lawyer.cn@arrears-demo.example", "role": "lawyer", "name": "王律师 (Wang Lei)",
     "password": "demo-lawyer-pass", "firm": "北京金诚律师事务所",
     "licence_number": "11101201810123456",
     "firm_address": "北京市朝阳区建国门外大街1号国贸大厦A座20层", "phone": "+86 10 6505 1234"},
    {"email": "lawyer.us@arrears-demo.example", "role": "lawyer", "name": "Daniel Okafor",
     "password": "demo-lawyer-pass", "firm": "Okafor & Lindqvist LLC",
     "licence_number": "ARDC 6312345",
     "firm_address": "200 West Madison Street, Suite 1800\nChicago, IL 60606",
     "phone": "(312) 555-0148", "attorney_code": "61234"},
]  # fmt: skip

DEMO_CREDITORS = [
    {
        "code": "NWC-UK",
        "legal_name": "Northwind Components Ltd",
        "registration_id": "08123456",
        "address": "14 Foundry Lane, Sheffield S3 8RY, United Kingdom",
        "jurisdiction": "ew",
        "legal_representative": "Margaret Ellison, Director",
        "incorporation": "England and Wales",
        "email": "credit.control@northwind-components.example",
        "phone": "+44 114 496 0123",
        "bank_name": "Barclays Bank UK PLC",
        "bank_account": "GB33BUKB20201555555555",
        "bank_code": "BUKBGB22",
    },
    {
        "code": "DH-CN",
        "legal_name": "上海东海实业有限公司",
        "registration_id": "91310115MA1K4LQX3R",
        "address": "上海市浦东新区张江路 88 号 5 楼",
        "jurisdiction": "cn",
        "legal_representative": "陈国强",
        "incorporation": "中华人民共和国",
        "email": "finance@donghai-industrial.example",
        "phone": "+86 21 5080 1234",
        "bank_name": "中国工商银行上海张江支行",
        "bank_account": "1001 2345 0900 1234 567",
        "bank_code": "ICBKCNBJSHI",
    },
]

# external_id, name, kind, registration_id, address, jurisdiction
DEMO_DEBTORS = [
    ("CN-0001", "杭州明远机电设备有限公司", "company", "91330106MA2H2B8K1X", "浙江省杭州市西湖区文三路 200 号", "cn"),
    ("CN-0002", "苏州恒通精密制造有限公司", "company", "91320505MA1MXQ4T6P", "江苏省苏州市高新区长江路 318 号", "cn"),
    ("CN-0003", "深圳市华信电子科技有限公司", "company", "91440300MA5FUKR27D", "广东省深圳市南山区科技园南区 12 栋", "cn"),
    ("CN-0004", "宁波港城物流有限公司", "company", "91330206MA2AH7JX5L", "浙江省宁波市北仑区新碶街道 66 号", "cn"),
    ("CN-0005", "成都天府建材贸易有限公司", "company", "91510100MA6CN8PJ0B", "四川省成都市武侯区人民南路四段 9 号", "cn"),
    ("CN-0006", "青岛海源食品有限公司", "company", "91370212MA3N4W1Y8E", "山东省青岛市崂山区海尔路 180 号", "cn"),
    ("CN-0007", "李建国（个体工商户：建国五金店）", "individual", "92310115MA1GT0XK2A", "上海市浦东新区川沙路 1515 号", "cn"),
    ("EW-0001", "Brackley Engineering Ltd", "company", "04518273", "Unit 7, Brackley Industrial Estate, Brackley NN13 7EE", "ew"),
    ("EW-0002", "Harrowgate Fabrications Limited", "company", "09876123", "22 Station Road, Harrogate HG1 1JP", "ew"),
    ("EW-0003", "Pennine Plastics plc", "company", "03344556", "Mill House, Calder Street, Halifax HX1 5QY", "ew"),
    ("EW-0004", "Medway Marine Supplies Ltd", "company", "07766554", "Dock Road, Chatham ME4 4SR", "ew"),
    ("EW-0005", "Thomas Whitfield t/a Whitfield Joinery", "individual", None, "3 Orchard Close, Ledbury HR8 2AB", "ew"),
    ("EW-0006", "Severn Valley Foods Limited", "company", "06123987", "Riverside Park, Worcester WR5 3RL", "ew"),
    ("EW-0007", "Cotswold Print & Pack Ltd", "company", "05432109", "Cirencester Business Park, Cirencester GL7 1YT", "ew"),
    ("US-0001", "Lakeshore Tooling LLC", "company", "IL-LLC-0567123", "1450 W Fulton St, Chicago, IL 60607", "us"),
    ("US-0002", "Prairie State Distributors Inc.", "company", "IL-CORP-6671209", "800 E Monroe St, Springfield, IL 62701", "us"),
    ("US-0003", "Fox River Packaging Co.", "company", "IL-CORP-5528341", "210 N Broadway, Aurora, IL 60505", "us"),
    ("US-0004", "Midwest Hydraulics Corp.", "company", "IL-CORP-4419902", "5500 N Cicero Ave, Chicago, IL 60646", "us"),
    ("US-0005", "Daniel Ortega d/b/a Ortega Welding", "individual", None, "77 Kankakee St, Joliet, IL 60432", "us"),
    ("US-0006", "Heartland Agri Supply LLC", "company", "IL-LLC-0711544", "3100 W Main St, Peoria, IL 61604", "us"),
]  # fmt: skip

#: What a pleading needs beyond the ledger row: a company's legal representative (法定代表人),
#: an individual's title and surname for the salutation.
DEMO_DEBTOR_DETAILS = {
    "CN-0001": {"legal_representative": "周明远"},
    "CN-0002": {"legal_representative": "吴恒通"},
    "CN-0003": {"legal_representative": "林华信"},
    "CN-0004": {"legal_representative": "郑港城"},
    "CN-0005": {"legal_representative": "何天府"},
    "CN-0006": {"legal_representative": "孙海源"},
    "EW-0005": {"title": "Mr", "surname": "Whitfield"},
    "US-0005": {"title": "Mr", "surname": "Ortega"},
}

#: Invoicing per jurisdiction: creditor code, currency, typical invoice size.
BILLING = {
    "cn": ("DH-CN", "CNY", 180_000),
    "ew": ("NWC-UK", "GBP", 9_000),
    "us": ("NWC-UK", "USD", 14_000),
}
#: The demo's "today": invoices and payments are dated relative to it.
DEMO_TODAY = dt.date(2026, 11, 1)

# debtor external_id, creditor code, lawyer e-mail (or None)
DEMO_CASES = [
    ("CN-0001", "DH-CN", "lawyer.cn@arrears-demo.example"),
    ("CN-0003", "DH-CN", None),
    ("EW-0001", "NWC-UK", "lawyer@arrears-demo.example"),
    ("EW-0005", "NWC-UK", "lawyer@arrears-demo.example"),
    ("EW-0003", "NWC-UK", "lawyer@arrears-demo.example"),
    ("US-0002", "NWC-UK", "lawyer.us@arrears-demo.example"),
]

#: The agreements the demo debts arise under (a PAP-Debt letter states the date and parties).
DEMO_AGREEMENTS = {
    "EW-0005": {
        "agreement_form": "written",
        "agreement_date": dt.date(2025, 3, 3),
        "agreement_parties": "Northwind Components Ltd and Thomas Whitfield "
        "(trading as Whitfield Joinery)",
    },
    "CN-0001": {
        "agreement_form": "written",
        "agreement_date": dt.date(2025, 2, 18),
        "agreement_parties": "上海东海实业有限公司与杭州明远机电设备有限公司",
        "fees_clause": True,
    },
}


@dataclass
class SeedSummary:
    """What ``seed_demo`` created and the credentials to print."""

    created: dict[str, int] = field(default_factory=dict)
    users: list[dict[str, str]] = field(default_factory=list)

    def render(self, base_url: str) -> str:
        made = ", ".join(f"{count} {name}" for name, count in self.created.items() if count)
        lines = [f"Demo data: {made or 'already present, nothing added'}.", "", "Demo users:"]
        for user in self.users:
            lines.append(f"  {user['role']:<8} {user['email']:<30} password: {user['password']}")
        lines.append(
            f"Demo lawyers sign with the passphrase {DEMO_P12_PASSPHRASE!r} "
            "(DEMO certificates, trusted by this portal only)."
        )
        lines.append(f"Sign in at {base_url}/login")
        return "\n".join(lines)


def seed_demo() -> SeedSummary:
    """Create what is missing of the demo data; the caller commits."""
    actor = Actor(user=None, label="seed-demo")
    summary = SeedSummary(
        created={"users": 0, "creditors": 0, "debtors": 0, "cases": 0, "rates": 0}
    )
    for spec in DEMO_USERS:
        existing_user = user_by_email(spec["email"])
        if existing_user is None:
            create_user(actor, **spec)
            summary.created["users"] += 1
        else:
            # Demo data seeded before these details existed gets them once.
            for name in ("firm_address", "phone", "attorney_code"):
                if spec.get(name) and not getattr(existing_user, name):
                    setattr(existing_user, name, spec[name])
        summary.users.append(
            {"role": spec["role"], "email": spec["email"], "password": spec["password"]}
        )
    creditors: dict[str, CreditorEntity] = {}
    for spec in DEMO_CREDITORS:
        existing = db.session.scalar(
            select(CreditorEntity).where(CreditorEntity.code == spec["code"])
        )
        if existing is None:
            existing = save_creditor(actor, None, spec)
            summary.created["creditors"] += 1
        creditors[spec["code"]] = existing
    debtors: dict[str, Debtor] = {}
    for external_id, name, kind, registration_id, address, jurisdiction in DEMO_DEBTORS:
        debtor, created = upsert_debtor(
            actor,
            external_id,
            {"name": name, "kind": kind, "registration_id": registration_id,
             "address": address, "jurisdiction": jurisdiction,
             **DEMO_DEBTOR_DETAILS.get(external_id, {})},
        )  # fmt: skip
        summary.created["debtors"] += int(created)
        debtors[external_id] = debtor
    _, changed = load_file(actor)
    summary.created["rates"] = changed
    summary.created["invoices"], summary.created["payments"] = _seed_ledger(actor, debtors)
    owner = user_by_email("legal@arrears-demo.example")
    for external_id, creditor_code, lawyer_email in DEMO_CASES:
        debtor = debtors[external_id]
        if db.session.scalar(select(Case.id).where(Case.debtor_id == debtor.id)) is not None:
            continue
        lawyer: User | None = user_by_email(lawyer_email) if lawyer_email else None
        invoices = db.session.scalars(
            select(Invoice).where(Invoice.debtor_id == debtor.id).order_by(Invoice.due_date)
        ).all()
        case = open_case(
            actor,
            creditor=creditors[creditor_code],
            debtor=debtor,
            owner=owner,
            lawyer=lawyer,
            invoices=invoices[:3],
        )
        _seed_events(actor, case)
        if external_id in DEMO_AGREEMENTS:
            set_agreement(actor, case, DEMO_AGREEMENTS[external_id])
        summary.created["cases"] += 1
    summary.created["signing certificates"] = _seed_pki(actor)
    return summary


#: Opens every demo lawyer's signing certificate (asked at each signature; never stored).
DEMO_P12_PASSPHRASE = "demo-p12-pass"  # noqa: S105 - documented demo credential


def demo_tsa_path() -> Path:
    """Where the demo authority's certificate and key live (PEM, mode 0600)."""
    return Path(current_app.instance_path) / "demo-tsa.pem"


def demo_ca_path() -> Path:
    """The demo CA's certificate and key (PEM, mode 0600): the demo service signs its CRL."""
    return Path(current_app.instance_path) / "demo-ca.pem"


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (replacing what was there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _seed_pki(actor: Actor) -> int:
    """A demo certificate authority, trusted by this portal only, and a certificate for each
    demo lawyer who has none; clearly named as demo. Returns how many certificates were made."""
    from .review.certificates import active_certificate, add_trusted_root, register_certificate
    from .signing.demo_pki import make_ca, make_signer_p12, make_tsa_certificate

    lawyers = [
        user
        for user in (user_by_email(spec["email"]) for spec in DEMO_USERS)
        if user is not None and user.role.value == "lawyer" and active_certificate(user) is None
    ]
    if not lawyers:
        return 0
    ca_pem, ca_key = make_ca("Arrears Portal DEMO CA (not for real documents)")
    add_trusted_root(actor, ca_pem, demo=True)
    # The demo's time-stamping authority, CRL and OCSP responder (``flask demo-tsa``, started
    # by ``make run``): the authority's certificate, and the demo CA's own key to sign its
    # revocation list and OCSP answers.
    service = current_app.config["DEMO_PKI_URL"].rstrip("/")
    pointers = {"crl_url": f"{service}/crl", "ocsp_url": f"{service}/ocsp"}
    tsa_cert, tsa_key = make_tsa_certificate(ca_pem, ca_key, **pointers)
    write_secret(demo_tsa_path(), tsa_cert + tsa_key)
    write_secret(demo_ca_path(), ca_pem + ca_key)
    for lawyer in lawyers:
        p12 = make_signer_p12(
            ca_pem,
            ca_key,
            common_name=f"{lawyer.name} (DEMO)",
            email=lawyer.email,
            organization=lawyer.firm,
            passphrase=DEMO_P12_PASSPHRASE,
            **pointers,
        )
        register_certificate(actor, lawyer, p12, DEMO_P12_PASSPHRASE)
    return len(lawyers)


def _seed_ledger(actor: Actor, debtors: dict[str, Debtor]) -> tuple[int, int]:
    """Three to five invoices per debtor over the last two years, some partly paid."""
    made_invoices = made_payments = 0
    generator = random.Random(2026)  # noqa: S311 - demo figures, not security
    for external_id, debtor in debtors.items():
        creditor, currency, size = BILLING[debtor.jurisdiction.value]
        for number in range(generator.randint(3, 5)):
            issued = DEMO_TODAY - dt.timedelta(days=generator.randint(20, 760))
            amount = Decimal(generator.randint(size // 4, size * 2)) + Decimal("0.50")
            _invoice, created = upsert_invoice(
                actor,
                f"{external_id}-INV-{number + 1:02d}",
                {
                    "debtor": external_id,
                    "creditor": creditor,
                    "number": f"{creditor.split('-')[0]}-{issued.year}-{debtor.id:03d}{number:02d}",
                    "issue_date": issued,
                    "delivery_date": issued - dt.timedelta(days=2),
                    "due_date": issued + dt.timedelta(days=60 if currency == "CNY" else 30),
                    "currency": currency,
                    "amount": amount,
                    "contract_ref": f"MSA-{debtor.id:04d}",
                    "interest_rate": Decimal("8") if number == 0 and currency == "USD" else None,
                },
            )
            made_invoices += int(created)
        if generator.random() < 0.6:
            _payment, created = upsert_payment(
                actor,
                f"{external_id}-PAY-01",
                {
                    "debtor": external_id,
                    "date": DEMO_TODAY - dt.timedelta(days=generator.randint(10, 200)),
                    "currency": currency,
                    "amount": Decimal(size // 3),
                    "invoice": None,
                },
            )
            made_payments += int(created)
    return made_invoices, made_payments


def _seed_events(actor: Actor, case: Case) -> None:
    """A plausible first month and a half of work on a demo case."""
    start = DEMO_TODAY - dt.timedelta(days=45)
    courier = "SF Express" if case.currency == "CNY" else "Royal Mail"
    for data in (
        {"type": "reconciliation_sent", "date": start, "courier": courier,
         "tracking": f"RS{case.id:06d}", "reply_by": start + dt.timedelta(days=30)},
        {"type": "contact", "date": start + dt.timedelta(days=7), "channel": "phone",
         "summary": "Called the finance manager; the invoices were received."},
        {"type": "promise", "date": start + dt.timedelta(days=10), "amount": Decimal(1000),
         "currency": case.currency, "due": start + dt.timedelta(days=24)},
    ):  # fmt: skip
        add_event(actor, case, data)
