"""Every route × every role: the policy decides, and a new route without an entry fails here.

Routes are discovered from ``app.url_map``; each (endpoint, method) pair must have a row below.
Outcomes: ``ok`` (served: 2xx, a redirect that is not to the login page, or a form/validation
error), ``login`` (redirect to the sign-in page), or an exact 401/403/404.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.extensions import db

from .conftest import login
from .factories import World, token_for

ROLES = ["anonymous", "admin", "legal", "finance", "lawyer"]
STAFF = ("admin", "legal", "finance")


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    path: str
    #: role → expected outcome; roles not named expect ``default``.
    expect: dict[str, str]
    default: str = "ok"
    #: Rows that change the signed-in state run last.
    order: int = 0


def signed_in(**expect: str) -> dict[str, str]:
    """Pages: anonymous visitors are sent to sign in."""
    return {"anonymous": "login", **expect}


def api(**expect: str) -> dict[str, str]:
    """API routes: no token is 401."""
    return {"anonymous": "401", **expect}


ADMIN_ONLY = signed_in(legal="403", finance="403", lawyer="403")
GENERATE = signed_in(finance="403", lawyer="403")
#: A job is its owner's (legal here) and the admins'; the test job has made no file yet.
OWN_JOB = signed_in(finance="404", lawyer="404")
OWN_JOB_FILE = signed_in(finance="404", lawyer="404", legal="404", admin="404")

MATRIX = [
    Row("main.dashboard", "GET", "/", signed_in()),
    Row("accounts.login", "GET", "/login", {}),
    Row("accounts.login", "POST", "/login", {}),
    Row("accounts.profile", "GET", "/profile", signed_in()),
    Row("accounts.create_token", "POST", "/profile/tokens", signed_in()),
    Row("accounts.change_password", "POST", "/profile/password", signed_in()),
    # Only a lawyer keeps signature-block details; to anyone else the form does not exist.
    Row(
        "accounts.save_counsel_details",
        "POST",
        "/profile/counsel",
        signed_in(admin="404", legal="404", finance="404"),
    ),
    Row(
        "accounts.revoke_token",
        "POST",
        "/profile/tokens/{admin_token_id}/revoke",
        signed_in(legal="404", finance="404", lawyer="404"),
    ),
    Row("admin.users", "GET", "/admin/users", ADMIN_ONLY),
    Row("admin.system", "GET", "/admin/system", ADMIN_ONLY),
    Row("admin.new_user", "GET", "/admin/users/new", ADMIN_ONLY),
    Row("admin.new_user", "POST", "/admin/users/new", ADMIN_ONLY),
    Row("admin.set_user_active", "POST", "/admin/users/{other_lawyer}/active", ADMIN_ONLY, order=1),
    Row(
        "admin.end_user_sessions",
        "POST",
        "/admin/users/{other_lawyer}/sessions",
        ADMIN_ONLY,
        order=1,
    ),
    Row("admin.creditors", "GET", "/admin/creditors", ADMIN_ONLY),
    Row("admin.edit_creditor", "GET", "/admin/creditors/new", ADMIN_ONLY),
    Row("admin.edit_creditor", "GET", "/admin/creditors/{creditor}", ADMIN_ONLY),
    Row("admin.edit_creditor", "POST", "/admin/creditors/{creditor}", ADMIN_ONLY),
    Row("audit.index", "GET", "/admin/audit/", ADMIN_ONLY),
    Row("cases.index", "GET", "/cases/", signed_in()),
    Row("cases.show", "GET", "/cases/{assigned_case}", signed_in()),
    Row("cases.show", "GET", "/cases/{other_case}", signed_in(lawyer="404")),
    Row(
        "cases.assign_lawyer",
        "POST",
        "/cases/{assigned_case}/lawyer",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "cases.assign_lawyer",
        "POST",
        "/cases/{other_case}/lawyer",
        signed_in(finance="403", lawyer="403"),
    ),
    Row("api-docs.openapi_json", "GET", "/api/v1/openapi.json", {}),
    Row("api.Health", "GET", "/api/v1/health", {}),
    Row("api.Me", "GET", "/api/v1/me", api()),
    Row("ledger_api.DebtorPut", "PUT", "/api/v1/debtors/D-9", api(lawyer="403")),
    Row("ledger_api.DebtorGet", "GET", "/api/v1/debtors/D-1", api(lawyer="403")),
    Row("ledger_api.InvoicePut", "PUT", "/api/v1/invoices/I-9", api(lawyer="403")),
    Row("ledger_api.PaymentPut", "PUT", "/api/v1/payments/P-9", api(lawyer="403")),
    Row("ledger_api.CreditNotePut", "PUT", "/api/v1/credit-notes/C-9", api(lawyer="403")),
    Row("ledger_api.Aging", "GET", "/api/v1/aging", api(lawyer="403")),
    Row("cases_api.Cases", "GET", "/api/v1/cases", api()),
    Row("cases_api.Cases", "POST", "/api/v1/cases", api(finance="403", lawyer="403")),
    Row("cases_api.CaseItem", "GET", "/api/v1/cases/{assigned_case}", api()),
    Row("cases_api.CaseItem", "GET", "/api/v1/cases/{other_case}", api(lawyer="404")),
    Row(
        "cases_api.CaseItem",
        "PATCH",
        "/api/v1/cases/{assigned_case}",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "cases_api.CaseItem",
        "PATCH",
        "/api/v1/cases/{other_case}",
        api(finance="403", lawyer="404"),
    ),
    Row("cases_api.CaseEvents", "GET", "/api/v1/cases/{assigned_case}/events", api()),
    Row("cases_api.CaseEvents", "GET", "/api/v1/cases/{other_case}/events", api(lawyer="404")),
    Row(
        "cases_api.CaseEvents",
        "POST",
        "/api/v1/cases/{assigned_case}/events",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "cases_api.CaseEvents",
        "POST",
        "/api/v1/cases/{other_case}/events",
        api(finance="403", lawyer="404"),
    ),
    Row("main.queue_section", "GET", "/queue/overdue", signed_in(finance="403", lawyer="403")),
    Row("ledger.debtors", "GET", "/ledger/debtors", signed_in(lawyer="403")),
    Row("ledger.debtor", "GET", "/ledger/debtors/D-1", signed_in(lawyer="403")),
    Row("ledger.open_case", "POST", "/ledger/debtors/D-1", signed_in(finance="403", lawyer="403")),
    Row("ledger.aging", "GET", "/ledger/aging", signed_in(lawyer="403")),
    Row("ledger.aging_csv", "GET", "/ledger/aging.csv", signed_in(lawyer="403")),
    Row(
        "ledger.aging_invoices",
        "GET",
        "/ledger/aging/invoices?debtor=D-1",
        signed_in(lawyer="403"),
    ),
    Row(
        "cases.move_stage",
        "POST",
        "/cases/{assigned_case}/stage",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "cases.set_status",
        "POST",
        "/cases/{assigned_case}/status",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "cases.set_next_action",
        "POST",
        "/cases/{assigned_case}/next-action",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "cases.set_agreement",
        "POST",
        "/cases/{assigned_case}/agreement",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "cases.add_event",
        "POST",
        "/cases/{other_case}/events",
        signed_in(finance="403", lawyer="403"),
    ),
    Row("admin.firms", "GET", "/admin/firms", ADMIN_ONLY),
    Row("admin.statutory_forms", "GET", "/admin/forms", ADMIN_ONLY),
    Row("admin.upload_statutory_form", "POST", "/admin/forms", ADMIN_ONLY),
    Row(
        "admin.statutory_form_pdf",
        "GET",
        "/admin/forms/999999/pdf",
        {**ADMIN_ONLY, "admin": "404"},
    ),
    Row("admin.save_letter_format", "POST", "/admin/firms", ADMIN_ONLY),
    Row("admin.rates", "GET", "/admin/rates", ADMIN_ONLY),
    Row("admin.save_rate", "POST", "/admin/rates", ADMIN_ONLY),
    Row("admin.delete_rate", "POST", "/admin/rates/999999/delete", {**ADMIN_ONLY, "admin": "404"}),
    Row("admin.load_rates", "POST", "/admin/rates/load", ADMIN_ONLY),
    Row("admin.confirm_rates", "POST", "/admin/rates/confirm", ADMIN_ONLY),
    Row("imports.index", "GET", "/imports/", signed_in(lawyer="403")),
    Row("imports.preview", "POST", "/imports/preview", signed_in(lawyer="403")),
    Row("imports.confirm", "POST", "/imports/confirm", signed_in(lawyer="403")),
    Row("imports.cancel", "POST", "/imports/cancel", signed_in(lawyer="403")),
    Row("imports_api.Imports", "POST", "/api/v1/imports", api(lawyer="403")),
    Row("evidence_api.CaseEvidence", "GET", "/api/v1/cases/{assigned_case}/evidence", api()),
    Row(
        "evidence_api.CaseEvidence",
        "GET",
        "/api/v1/cases/{other_case}/evidence",
        api(lawyer="404"),
    ),
    Row(
        "evidence_api.CaseEvidence",
        "POST",
        "/api/v1/cases/{assigned_case}/evidence",
        api(lawyer="403"),
    ),
    Row(
        "evidence_api.CaseEvidence",
        "POST",
        "/api/v1/cases/{other_case}/evidence",
        api(lawyer="404"),
    ),
    Row("evidence_api.EvidenceOriginal", "GET", "/api/v1/evidence/{assigned_evidence}/file", api()),
    Row(
        "evidence_api.EvidenceOriginal",
        "GET",
        "/api/v1/evidence/{other_evidence}/file",
        api(lawyer="404"),
    ),
    Row("evidence_api.EvidencePdf", "GET", "/api/v1/evidence/{assigned_evidence}/pdf", api()),
    Row(
        "evidence_api.EvidencePdf",
        "GET",
        "/api/v1/evidence/{other_evidence}/pdf",
        api(lawyer="404"),
    ),
    Row("evidence.upload", "POST", "/cases/{assigned_case}/evidence", signed_in(lawyer="403")),
    Row("evidence.upload", "POST", "/cases/{other_case}/evidence", signed_in(lawyer="403")),
    Row("evidence.original", "GET", "/evidence/{assigned_evidence}/file", signed_in()),
    Row("evidence.original", "GET", "/evidence/{other_evidence}/file", signed_in(lawyer="404")),
    Row("evidence.exhibit", "GET", "/evidence/{assigned_evidence}/pdf", signed_in()),
    Row("evidence.exhibit", "GET", "/evidence/{other_evidence}/pdf", signed_in(lawyer="404")),
    Row("evidence.exhibit_view", "GET", "/evidence/{assigned_evidence}/view", signed_in()),
    Row("evidence.exhibit_view", "GET", "/evidence/{other_evidence}/view", signed_in(lawyer="404")),
    Row("documents.generate", "POST", "/cases/{assigned_case}/documents", GENERATE),
    Row("documents.generate", "POST", "/cases/{other_case}/documents", GENERATE),
    Row("documents.show", "GET", "/documents/{assigned_document}", signed_in()),
    Row("documents.show", "GET", "/documents/{other_document}", signed_in(lawyer="404")),
    Row("documents.pdf", "GET", "/documents/{assigned_document}/pdf", signed_in()),
    Row("documents.pdf", "GET", "/documents/{other_document}/pdf", signed_in(lawyer="404")),
    Row("documents.docx", "GET", "/documents/{assigned_document}/docx", signed_in()),
    Row("documents.docx", "GET", "/documents/{other_document}/docx", signed_in(lawyer="404")),
    Row("documents.upload", "POST", "/documents/{assigned_document}/upload", GENERATE),
    Row("documents.upload", "POST", "/documents/{other_document}/upload", GENERATE),
    Row("documents.bulk", "GET", "/documents/bulk", GENERATE),
    Row("documents.bulk", "POST", "/documents/bulk", GENERATE),
    Row("documents.job_list", "GET", "/jobs", signed_in()),  # one's own jobs only
    Row("documents.job", "GET", "/jobs/{legal_job}", OWN_JOB),
    Row("documents.job_download", "GET", "/jobs/{legal_job}/download", OWN_JOB_FILE),
    Row("documents_api.CaseDocuments", "GET", "/api/v1/cases/{assigned_case}/documents", api()),
    Row(
        "documents_api.CaseDocuments",
        "GET",
        "/api/v1/cases/{other_case}/documents",
        api(lawyer="404"),
    ),
    Row(
        "documents_api.CaseDocuments",
        "POST",
        "/api/v1/cases/{assigned_case}/documents",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "documents_api.CaseDocuments",
        "POST",
        "/api/v1/cases/{other_case}/documents",
        api(finance="403", lawyer="404"),
    ),
    Row("documents_api.DocumentItem", "GET", "/api/v1/documents/{assigned_document}", api()),
    Row(
        "documents_api.DocumentItem",
        "GET",
        "/api/v1/documents/{other_document}",
        api(lawyer="404"),
    ),
    Row("documents_api.DocumentDocx", "GET", "/api/v1/documents/{assigned_document}/docx", api()),
    Row(
        "documents_api.DocumentDocx",
        "GET",
        "/api/v1/documents/{other_document}/docx",
        api(lawyer="404"),
    ),
    Row(
        "documents_api.DocumentDocx",
        "POST",
        "/api/v1/documents/{assigned_document}/docx",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "documents_api.DocumentDocx",
        "POST",
        "/api/v1/documents/{other_document}/docx",
        api(finance="403", lawyer="404"),
    ),
    Row("documents_api.DocumentPdf", "GET", "/api/v1/documents/{assigned_document}/pdf", api()),
    Row(
        "documents_api.DocumentPdf",
        "GET",
        "/api/v1/documents/{other_document}/pdf",
        api(lawyer="404"),
    ),
    Row(
        "documents_api.BulkDocuments",
        "POST",
        "/api/v1/documents/bulk",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "documents_api.JobItem", "GET", "/api/v1/jobs/{legal_job}", api(finance="404", lawyer="404")
    ),
    Row(
        "documents_api.JobOutput",
        "GET",
        "/api/v1/jobs/{legal_job}/output",
        api(finance="404", lawyer="404", legal="404", admin="404"),
    ),
    # Review and signing: visibility first (404), then the role (403).
    Row(
        "review_api.Submit",
        "POST",
        "/api/v1/documents/{assigned_document}/submit",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "review_api.Submit",
        "POST",
        "/api/v1/documents/{other_document}/submit",
        api(finance="403", lawyer="404"),
    ),
    Row("review_api.Review", "POST", "/api/v1/documents/{assigned_document}/review", api()),
    Row(
        "review_api.Review",
        "POST",
        "/api/v1/documents/{other_document}/review",
        api(lawyer="404"),
    ),
    Row("review_api.Comments", "GET", "/api/v1/documents/{assigned_document}/comments", api()),
    Row(
        "review_api.Comments",
        "GET",
        "/api/v1/documents/{other_document}/comments",
        api(lawyer="404"),
    ),
    Row("review_api.Dispatch", "POST", "/api/v1/documents/{assigned_document}/dispatch", api()),
    Row(
        "review_api.Dispatch",
        "POST",
        "/api/v1/documents/{other_document}/dispatch",
        api(lawyer="404"),
    ),
    Row(
        "review_api.Queue",
        "GET",
        "/api/v1/review/queue",
        api(admin="403", legal="403", finance="403"),
    ),
    # The test lawyer has registered no certificate yet.
    Row(
        "review_api.MyCertificate",
        "GET",
        "/api/v1/users/me/certificate",
        api(admin="403", legal="403", finance="403", lawyer="404"),
    ),
    Row(
        "review_api.MyCertificate",
        "POST",
        "/api/v1/users/me/certificate",
        api(admin="403", legal="403", finance="403"),
    ),
    Row("review_api.Verify", "POST", "/api/v1/verify", api()),
    Row("evidence_api.EvidenceItem", "GET", "/api/v1/evidence/{assigned_evidence}", api()),
    Row(
        "evidence_api.EvidenceItem",
        "GET",
        "/api/v1/evidence/{other_evidence}",
        api(lawyer="404"),
    ),
    Row(
        "evidence_api.EvidenceItem",
        "PATCH",
        "/api/v1/evidence/{assigned_evidence}",
        api(lawyer="403"),
    ),
    Row(
        "evidence_api.EvidenceItem",
        "PATCH",
        "/api/v1/evidence/{other_evidence}",
        api(lawyer="404"),
    ),
    Row(
        "evidence_api.EvidenceItem",
        "DELETE",
        "/api/v1/evidence/{assigned_evidence}",
        api(lawyer="403"),
        order=1,
    ),
    Row(
        "evidence_api.EvidenceItem",
        "DELETE",
        "/api/v1/evidence/{other_evidence}",
        api(lawyer="404"),
        order=1,
    ),
    # Review pages: visibility first (404), then the role (403).
    Row("review.queue", "GET", "/review", signed_in(admin="403", legal="403", finance="403")),
    Row(
        "review.review",
        "GET",
        "/documents/{assigned_document}/review",
        signed_in(admin="403", legal="403", finance="403"),
    ),
    Row(
        "review.review",
        "GET",
        "/documents/{other_document}/review",
        signed_in(admin="403", legal="403", finance="403", lawyer="404"),
    ),
    Row(
        "review.review",
        "POST",
        "/documents/{assigned_document}/review",
        signed_in(admin="403", legal="403", finance="403"),
    ),
    Row(
        "review.review",
        "POST",
        "/documents/{other_document}/review",
        signed_in(admin="403", legal="403", finance="403", lawyer="404"),
    ),
    Row(
        "review.submit",
        "POST",
        "/documents/{assigned_document}/submit",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "review.submit",
        "POST",
        "/documents/{other_document}/submit",
        signed_in(finance="403", lawyer="404"),
    ),
    Row(
        "review.dispatch",
        "POST",
        "/documents/{assigned_document}/dispatch",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "review.dispatch",
        "POST",
        "/documents/{other_document}/dispatch",
        signed_in(finance="403", lawyer="404"),
    ),
    Row(
        "review.certificate",
        "GET",
        "/account/certificate",
        signed_in(admin="403", legal="403", finance="403"),
    ),
    Row(
        "review.certificate",
        "POST",
        "/account/certificate",
        signed_in(admin="403", legal="403", finance="403"),
    ),
    Row("review.verify", "GET", "/verify", signed_in()),
    Row("review.verify", "POST", "/verify", signed_in()),
    Row("review.inbox", "GET", "/inbox", signed_in()),
    Row("review.inbox_read_all", "POST", "/inbox/read", signed_in()),
    Row(
        "review.inbox_open",
        "POST",
        "/inbox/999999",
        signed_in(admin="404", legal="404", finance="404", lawyer="404"),
    ),
    Row("review.trusted_roots_page", "GET", "/admin/trusted-roots", ADMIN_ONLY),
    Row("review.trusted_roots_page", "POST", "/admin/trusted-roots", ADMIN_ONLY),
    Row(
        "review.remove_root",
        "GET",
        "/admin/trusted-roots/999999/remove",
        {**ADMIN_ONLY, "admin": "404"},
    ),
    Row(
        "review.remove_root",
        "POST",
        "/admin/trusted-roots/999999/remove",
        {**ADMIN_ONLY, "admin": "404"},
    ),
    # Filing bundles (the world's cases have no exhibit PDFs: a build is refused with 409).
    Row("bundles_api.CaseBundles", "GET", "/api/v1/cases/{assigned_case}/bundles", api()),
    Row(
        "bundles_api.CaseBundles",
        "GET",
        "/api/v1/cases/{other_case}/bundles",
        api(lawyer="404"),
    ),
    Row(
        "bundles_api.CaseBundles",
        "POST",
        "/api/v1/cases/{assigned_case}/bundles",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "bundles_api.CaseBundles",
        "POST",
        "/api/v1/cases/{other_case}/bundles",
        api(finance="403", lawyer="404"),
    ),
    Row("bundles_api.BundleItem", "GET", "/api/v1/bundles/{assigned_bundle}", api()),
    Row("bundles_api.BundleItem", "GET", "/api/v1/bundles/{other_bundle}", api(lawyer="404")),
    Row("bundles_api.BundlePdf", "GET", "/api/v1/bundles/{assigned_bundle}/pdf", api()),
    Row("bundles_api.BundlePdf", "GET", "/api/v1/bundles/{other_bundle}/pdf", api(lawyer="404")),
    Row("bundles_api.BundleZip", "GET", "/api/v1/bundles/{assigned_bundle}/zip", api()),
    Row("bundles_api.BundleZip", "GET", "/api/v1/bundles/{other_bundle}/zip", api(lawyer="404")),
    # Bundle review: visibility first (404), then the role (403).
    Row(
        "bundles_api.BundleSubmit",
        "POST",
        "/api/v1/bundles/{assigned_bundle}/submit",
        api(finance="403", lawyer="403"),
    ),
    Row(
        "bundles_api.BundleSubmit",
        "POST",
        "/api/v1/bundles/{other_bundle}/submit",
        api(finance="403", lawyer="404"),
    ),
    Row("bundles_api.BundleReview", "POST", "/api/v1/bundles/{assigned_bundle}/review", api()),
    Row(
        "bundles_api.BundleReview",
        "POST",
        "/api/v1/bundles/{other_bundle}/review",
        api(lawyer="404"),
    ),
    Row("bundles_api.BundleComments", "GET", "/api/v1/bundles/{assigned_bundle}/comments", api()),
    Row(
        "bundles_api.BundleComments",
        "GET",
        "/api/v1/bundles/{other_bundle}/comments",
        api(lawyer="404"),
    ),
    Row(
        "bundles.submit",
        "POST",
        "/bundles/{assigned_bundle}/submit",
        signed_in(finance="403", lawyer="403"),
    ),
    Row(
        "bundles.submit",
        "POST",
        "/bundles/{other_bundle}/submit",
        signed_in(finance="403", lawyer="404"),
    ),
    Row(
        "bundles.review",
        "POST",
        "/bundles/{assigned_bundle}/review",
        signed_in(admin="403", legal="403", finance="403"),
    ),
    Row(
        "bundles.review",
        "POST",
        "/bundles/{other_bundle}/review",
        signed_in(admin="403", legal="403", finance="403", lawyer="404"),
    ),
    # Bundle pages (a build on the world's cases is refused with 409: no exhibit PDFs).
    Row("bundles.build", "POST", "/cases/{assigned_case}/bundles", GENERATE),
    Row("bundles.build", "POST", "/cases/{other_case}/bundles", GENERATE),
    Row("bundles.show", "GET", "/bundles/{assigned_bundle}", signed_in()),
    Row("bundles.show", "GET", "/bundles/{other_bundle}", signed_in(lawyer="404")),
    Row("bundles.volume", "GET", "/bundles/{assigned_bundle}/volumes/1", signed_in()),
    Row("bundles.volume", "GET", "/bundles/{other_bundle}/volumes/1", signed_in(lawyer="404")),
    Row("bundles.volume_view", "GET", "/bundles/{assigned_bundle}/volumes/1/view", signed_in()),
    Row(
        "bundles.volume_view",
        "GET",
        "/bundles/{other_bundle}/volumes/1/view",
        signed_in(lawyer="404"),
    ),
    Row("bundles.archive", "GET", "/bundles/{assigned_bundle}/zip", signed_in()),
    Row("bundles.archive", "GET", "/bundles/{other_bundle}/zip", signed_in(lawyer="404")),
    Row("accounts.logout", "POST", "/logout", {}, default="login", order=2),
]


def outcome(response) -> str:
    """Classify a response into the matrix's vocabulary."""
    status = response.status_code
    if status in (401, 403, 404):
        return str(status)
    if status in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    if status < 500:
        return "ok"
    return f"error {status}"


def test_every_route_has_a_row(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(row.endpoint, row.method) for row in MATRIX}
    assert routes - covered == set(), "routes without an access-matrix row"
    assert covered - routes == set(), "matrix rows for routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, client, world: World, role: str):
    headers = {}
    if role != "anonymous":
        assert login(client, World.EMAILS[role]).status_code == 302
        with app.app_context():
            headers = {"Authorization": f"Bearer {token_for(World.EMAILS[role])}"}
    ids = {key: value for key, value in vars(world).items() if isinstance(value, int)}
    mismatches = []
    for row in sorted(MATRIX, key=lambda row: row.order):
        path = row.path.format(**ids)
        api = path.startswith("/api/")
        response = client.open(
            path,
            method=row.method,
            headers=headers if api else {},
            json={} if api and row.method in ("POST", "PUT", "PATCH") else None,
        )
        expected = row.expect.get(role, row.default)
        got = outcome(response)
        if got != expected:
            mismatches.append(f"{row.method} {path}: expected {expected}, got {got}")
    with app.app_context():
        db.session.remove()
    assert mismatches == []
