from portal.imports.services import run_import
from .conftest import ACTOR, invoice_row, write_csv, counts
from portal.extensions import db

def test_smoke(app, ledger, tmp_path):
    path = write_csv(tmp_path / "i.csv", [invoice_row(i) for i in range(1, 21)])
    with app.app_context():
        r = run_import(ACTOR, "invoices", path.read_bytes(), filename="i.csv", dry_run=False)
        print(r)
        db.session.commit()
        print(counts())
        r = run_import(ACTOR, "invoices", path.read_bytes(), filename="i.csv", dry_run=False)
        print(r)
        assert 0
