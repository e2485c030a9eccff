"""The template context: a pure function from a case's facts to the dict a template reads.

No Flask and no database here — ``facts.py`` gathers ``DocumentFacts`` from the case; this module
formats them for one language (money ``12,345.67``, dates ``23 November 2026`` /
``November 23, 2026`` / ``2026年11月23日``, amounts in words) and leaves ``None`` where the case has
no value, so ``rendering.py`` can mark it missing. The field list is ``doc_templates/README.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .words import amount_in_words, dates_in_words, format_date, format_money

ZERO = Decimal(0)
_STATE_ZIP = re.compile(r"[A-Z]{2} \d{5}(-\d{4})?")

#: Chinese names of the currencies a PRC document may state.
CURRENCY_NAMES = {
    "en": {
        "GBP": "pounds sterling",
        "USD": "US dollars",
        "EUR": "euros",
        "CNY": "Chinese yuan (RMB)",
    },
    "zh": {"CNY": "人民币", "USD": "美元", "GBP": "英镑", "EUR": "欧元", "HKD": "港币"},
}

#: Evidence kinds in each language, and what such a document usually proves.
EVIDENCE_KINDS = {
    "contract": (
        "Contract",
        "合同",
        "The contract and its terms (price, payment terms)",
        "双方存在买卖合同关系及付款约定",
    ),
    "purchase_order": (
        "Purchase order",
        "采购订单",
        "The debtor ordered the goods or services",
        "被告向原告订购货物或服务",
    ),
    "delivery_note": (
        "Delivery note",
        "送货单",
        "The goods were delivered and received",
        "原告已交付货物、被告已签收",
    ),
    "invoice": (
        "Invoice",
        "发票",
        "The amount invoiced and its due date",
        "原告已开具发票及应付金额",
    ),
    "invoice_delivery_proof": (
        "Proof of invoice delivery",
        "发票送达凭证",
        "The invoice reached the debtor",
        "发票已送达被告",
    ),
    "reconciliation_confirmation": (
        "Balance confirmation",
        "对账确认函",
        "The debtor confirmed the balance owed",
        "被告确认欠款余额",
    ),
    "correspondence": (
        "Correspondence",
        "往来函件",
        "The parties' dealings about the debt",
        "双方就欠款的沟通情况",
    ),
    "demand_notice": ("Demand", "催款函", "Payment was demanded", "原告已向被告催收欠款"),
    "dispatch_proof": (
        "Proof of dispatch",
        "邮寄凭证",
        "The demand was sent and delivered",
        "催款函件已寄送并送达",
    ),
    "payment_record": (
        "Payment record",
        "付款记录",
        "Payments received and the balance left",
        "被告已付款项及剩余欠款",
    ),
    "acknowledgment": (
        "Acknowledgment of debt",
        "欠款确认书",
        "The debtor acknowledged the debt",
        "被告确认欠款",
    ),
    "asset_photo": ("Photograph", "照片", "The goods or assets shown", "相关货物或财产状况"),
    "other": ("Other document", "其他材料", "", ""),
}
DEFAULT_SOURCE = {"en": "Claimant's records", "zh": "原告提供"}
#: English documents write amounts with the currency's sign; a currency without one keeps its code.
CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}
#: An evidence list's original/copy column (原件/复印件): "original" only when the record says
#: the creditor holds it; otherwise what the portal holds, a copy.
ORIGINAL = {
    "en": {True: "original", False: "copy", None: "copy"},
    "zh": {True: "原件", False: "复印件", None: "复印件"},
}


@dataclass(frozen=True)
class Party:
    name: str
    registration_id: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    legal_representative: str | None = None
    kind: str = "company"  #: company | individual
    incorporation: str | None = None  #: where incorporated (a US complaint describes it)
    title: str | None = None  #: an individual's title (Mr, Ms, Dr)
    surname: str | None = None


@dataclass(frozen=True)
class Bank:
    name: str | None = None
    account: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Lawyer:
    name: str
    licence_number: str | None
    email: str | None
    firm: str | None
    firm_address: str | None
    phone: str | None = None
    attorney_code: str | None = None


@dataclass(frozen=True)
class Agreement:
    """The agreement the debt arises under, as recorded on the case."""

    form: str | None = None  #: written | oral
    date: dt.date | None = None
    parties: str | None = None
    terms: str | None = None
    fees_clause: bool = False  #: the contract provides for the creditor's lawyer's fees


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    contract_ref: str | None
    issue_date: dt.date
    delivery_date: dt.date | None
    due_date: dt.date
    amount: Decimal
    credited: Decimal
    paid: Decimal
    balance: Decimal
    interest: Decimal | None


@dataclass(frozen=True)
class InterestPeriod:
    invoice: str
    start: dt.date
    end: dt.date
    days: int
    principal: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Interest:
    basis: str | None = None  #: the packs' code: late_payment_act, contractual, prc_lpr, …
    rate: Decimal | None = None  #: percent per annum when common to all invoices
    daily: Decimal = ZERO
    amount: Decimal = ZERO
    start: dt.date | None = None
    #: The packs' sentences, one per invoice (English).
    texts: tuple[str, ...] = ()
    periods: tuple[InterestPeriod, ...] = ()
    #: PRC: the uplift on the LPR as a fraction (0.5 = 50 %).
    lpr_uplift: Decimal | None = None
    error: str | None = None


@dataclass(frozen=True)
class ExhibitLine:
    name: str
    kind: str
    date: dt.date | None
    source: str | None
    proves: str | None
    #: Pages of its PDF, or in a filing bundle its page range ("12–15").
    pages: int | str | None
    #: Its label in a filing bundle ("C-003"); otherwise it is numbered in list order.
    label: str | None = None
    #: The creditor holds the original (True), only a copy (False), or nobody said (None).
    original_held: bool | None = None


@dataclass(frozen=True)
class Demand:
    """The case's latest demand letter as the record shows it went out (``facts.demand_of``).

    ``state`` is what a pleading may say of it: ``sent`` (dispatched, no delivery recorded),
    ``delivered`` (delivered, its deadline not yet passed) or ``expired`` (delivered, and the
    deadline it gave has passed with the sums still unpaid).
    """

    date: dt.date | None
    reference: str | None
    deadline: dt.date | None
    state: str = "sent"
    sent_on: dt.date | None = None
    delivered_on: dt.date | None = None
    courier: str | None = None
    #: The records behind it: the dispatch event and the letter's document version.
    event_id: int | None = None
    document_id: int | None = None


@dataclass(frozen=True)
class DocumentFacts:
    """Everything a document says, as plain data (gathered by ``facts.gather``)."""

    kind: str
    title: str
    jurisdiction: str
    language: str  #: en | zh
    date: dt.date
    reference: str
    version: int
    draft: bool
    case_reference: str
    creditor: Party
    bank: Bank
    debtor: Party
    lawyer: Lawyer | None
    sender_name: str
    sender_email: str | None
    currency: str
    invoices: tuple[InvoiceLine, ...]
    payments: tuple[tuple[dt.date, Decimal], ...]
    interest: Interest
    compensation: Decimal
    costs: Decimal
    deadline: dt.date
    deadline_days: int
    evidence: tuple[ExhibitLine, ...] = ()
    demand: Demand | None = None
    #: Values typed in at generation (``court.name``, ``court.address``, ``claim.facts``).
    inputs: dict[str, str] = field(default_factory=dict)
    agreement: Agreement = field(default_factory=Agreement)
    #: What the record proves of receipt: ``goods_signed_for``, ``invoices_received``,
    #: ``objected`` (``facts.receipt_of``); a pleading asserts receipt only when it is proven.
    received: dict[str, bool] = field(default_factory=dict)


#: Illinois S. Ct. Rule 222(a): the limited-damages procedure covers claims up to $50,000.
RULE_222B_LIMIT = Decimal("50000.00")


def _demand(demand: Demand | None, day) -> dict[str, Any]:
    """What the templates may say of the demand letter: only what the record shows."""
    if demand is None:
        return {
            "state": "none",
            "date": None,
            "reference": None,
            "deadline": None,
            "sent_on": None,
            "delivered_on": None,
            "courier": None,
        }
    return {
        "state": demand.state,
        "date": day(demand.date),
        "reference": demand.reference,
        "deadline": day(demand.deadline),
        "sent_on": day(demand.sent_on),
        "delivered_on": day(demand.delivered_on),
        "courier": demand.courier,
    }


def date_style(jurisdiction: str, language: str) -> str:
    """How dates are written: zh, en-US or en-GB."""
    if language == "zh":
        return "zh"
    return "en-US" if jurisdiction == "us" else "en-GB"


def build_context(facts: DocumentFacts) -> dict[str, Any]:
    """The dict a template is rendered with (see ``doc_templates/README.md``)."""
    lang = facts.language
    style = date_style(facts.jurisdiction, lang)

    def day(value: dt.date | None) -> str | None:
        return format_date(value, style) if value else None

    def money(value: Decimal | None) -> str | None:
        return format_money(value, lang) if value is not None else None

    invoices = facts.invoices
    outstanding = sum((line.balance for line in invoices), ZERO)
    interest = facts.interest
    total_due = outstanding + interest.amount + facts.compensation + facts.costs
    lawyer = facts.lawyer
    contracts = sorted({line.contract_ref for line in invoices if line.contract_ref})
    return {
        "document": {
            "kind": facts.kind,
            "title": facts.title,
            "reference": facts.reference,
            "date": day(facts.date),
            "version": facts.version,
            "draft": facts.draft,
        },
        "case": {"reference": facts.case_reference},
        "creditor": _party(facts.creditor),
        "debtor": _party(facts.debtor),
        "firm": {
            "name": _text(lawyer.firm) if lawyer else None,
            "address": _text(lawyer.firm_address) if lawyer else None,
            "address_lines": _lines(lawyer.firm_address) if lawyer else [],
        },
        "lawyer": {
            "name": lawyer.name if lawyer else None,
            "licence_number": _text(lawyer.licence_number) if lawyer else None,
            "email": _text(lawyer.email) if lawyer else None,
            "phone": _text(lawyer.phone) if lawyer else None,
            "attorney_code": _text(lawyer.attorney_code) if lawyer else None,
        },
        "record": {
            "goods_signed_for": bool(facts.received.get("goods_signed_for")),
            "invoices_received": bool(facts.received.get("invoices_received")),
            "objected": bool(facts.received.get("objected")),
        },
        "agreement": {
            "form": facts.agreement.form,
            "date": day(facts.agreement.date),
            "parties": _text(facts.agreement.parties),
            "terms": _text(facts.agreement.terms),
        },
        "sender": {"name": facts.sender_name, "email": _text(facts.sender_email)},
        "currency": facts.currency,
        # One way of writing money in a document: £1,234.50 / $1,234.50, never "GBP" beside "£".
        "symbol": CURRENCY_SYMBOLS.get(facts.currency, f"{facts.currency} "),
        "currency_name": CURRENCY_NAMES[lang].get(facts.currency, facts.currency),
        "contract": {
            "references": ", ".join(contracts) if contracts else None,
            "fees_clause": facts.agreement.fees_clause,
        },
        "invoices": [
            {
                "number": line.number,
                "contract_ref": _text(line.contract_ref),
                "issue_date": day(line.issue_date),
                "delivery_date": day(line.delivery_date),
                "due_date": day(line.due_date),
                "amount": money(line.amount),
                "credited": money(line.credited),
                "paid": money(line.paid),
                "balance": money(line.balance),
                "interest": money(line.interest if line.interest is not None else ZERO),
                "days_overdue": max((facts.date - line.due_date).days, 0),
            }
            for line in invoices
        ],
        "payments": [{"date": day(on), "amount": money(amount)} for on, amount in facts.payments],
        "interest": {
            "basis": interest.basis,
            # A figure the rate table cannot support names the missing rate instead (drafts only).
            "basis_text": f"[missing: {interest.error}]"
            if interest.error
            else dates_in_words(_basis_text(interest, lang) or "", style) or None,
            "missing_rate": interest.error,
            "rate": _percent(interest.rate),
            "daily": money(interest.daily),
            "amount": money(interest.amount),
            "from": day(interest.start),
            "to": day(facts.date),
            "periods": [
                {
                    "invoice": period.invoice,
                    "start": day(period.start),
                    "end": day(period.end),
                    "days": period.days,
                    "principal": money(period.principal),
                    "rate": _percent(period.rate),
                    "amount": money(period.amount),
                }
                for period in interest.periods
            ],
        },
        "totals": {
            "principal": money(sum((line.amount - line.credited for line in invoices), ZERO)),
            "credited": money(sum((line.credited for line in invoices), ZERO)),
            "paid": money(sum((line.paid for line in invoices), ZERO)),
            "outstanding": money(outstanding),
            "interest": money(interest.amount),
            "compensation": money(facts.compensation),
            "costs": money(facts.costs),
            "total_due": money(total_due),
            "total_due_words": amount_in_words(total_due, facts.currency, lang),
            "outstanding_words": amount_in_words(outstanding, facts.currency, lang),
        },
        "deadline": {"date": day(facts.deadline), "days": facts.deadline_days},
        # Illinois S. Ct. Rule 222(b): a complaint for money damages of $50,000 or less
        # (exclusive of interest and costs) carries the party's affidavit saying so.
        "rule_222b": facts.jurisdiction == "us"
        and outstanding + facts.compensation <= RULE_222B_LIMIT,
        "demand": _demand(facts.demand, day),
        "payment": {
            "bank_name": _text(facts.bank.name),
            "account": _text(facts.bank.account),
            "bank_code": _text(facts.bank.code),
            "reference": facts.reference,
        },
        "evidence": [
            _exhibit(number, item, lang, day) for number, item in enumerate(facts.evidence, 1)
        ],
        "court": {
            "name": _text(facts.inputs.get("court.name")),
            "address": _text(facts.inputs.get("court.address")),
        },
        "claim": {"facts": _text(facts.inputs.get("claim.facts"))},
    }


def _text(value: str | None) -> str | None:
    """Blank means missing."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _lines(address: str | None) -> list[str]:
    """An address as letter-head lines: its own line breaks, else its commas."""
    text = _text(address)
    if not text:
        return []
    if "\n" in text:
        return [part.strip() for part in text.splitlines() if part.strip()]
    lines: list[str] = []
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        # "Joliet, IL 60432": a US state and ZIP code stay on the town's line.
        if lines and _STATE_ZIP.fullmatch(part):
            lines[-1] = f"{lines[-1]}, {part}"
        else:
            lines.append(part)
    return lines


def _party(party: Party) -> dict[str, Any]:
    return {
        "name": party.name,
        "kind": party.kind,
        "is_individual": party.kind == "individual",
        "registration_id": _text(party.registration_id),
        "address": _text(party.address),
        "address_lines": _lines(party.address),
        "email": _text(party.email),
        "phone": _text(party.phone),
        "legal_representative": _text(party.legal_representative),
        "incorporation": _text(party.incorporation),
        # "Mr Smith" for "Dear Mr Smith": an individual is addressed by title and surname.
        "salutation": f"{party.title.strip()} {party.surname.strip()}"
        if _text(party.title) and _text(party.surname)
        else None,
    }


def _percent(rate: Decimal | None) -> str | None:
    if rate is None:
        return None
    return format(rate.quantize(Decimal("0.0001")).normalize(), "f")


def _basis_text(interest: Interest, lang: str) -> str | None:
    """The legal basis as a sentence; the packs write English, Chinese is composed here."""
    if interest.basis is None or interest.basis == "none":
        return None
    if lang == "en":
        return " ".join(interest.texts) or None
    rate = _percent(interest.rate)
    if interest.basis == "prc_lpr":
        uplift = _percent((interest.lpr_uplift or ZERO) * 100)
        rate_text = f"年利率{rate}%" if rate else "相应年利率"
        return (
            f"以未付货款为基数，自逾期之日起，按照逾期时一年期贷款市场报价利率（LPR）加计{uplift}%"
            f"即{rate_text}计算逾期付款损失（《最高人民法院关于审理买卖合同纠纷案件适用法律问题的解释》"
            "第十八条第四款）"
        )
    if interest.basis == "contractual":
        rate_text = f"年利率{rate}%" if rate else "利率"
        return f"以未付货款为基数，自逾期之日起，按照双方合同约定的{rate_text}计算逾期付款利息"
    rate_text = f"年利率{rate}%" if rate else "相应利率"
    return f"以未付货款为基数，自逾期之日起按{rate_text}计算逾期付款利息"


def _exhibit(number: int, item: ExhibitLine, lang: str, day) -> dict[str, Any]:
    en_kind, zh_kind, en_proves, zh_proves = EVIDENCE_KINDS.get(item.kind, EVIDENCE_KINDS["other"])
    return {
        "number": item.label or number,
        "name": item.name,
        "kind": zh_kind if lang == "zh" else en_kind,
        "date": day(item.date),
        "source": _text(item.source) or DEFAULT_SOURCE[lang],
        "proves": _text(item.proves) or (zh_proves if lang == "zh" else en_proves) or None,
        "pages": item.pages,
        "original": ORIGINAL[lang].get(item.original_held),
    }
