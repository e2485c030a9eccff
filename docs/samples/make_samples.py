# ruff: noqa: E501  (data tables read best one record per line)
"""Write the sample ERP export in this folder: debtors.csv, invoices.csv, invoices.xlsx, payments.csv.

The debtors are the 20 demo debtors of ``flask --app portal seed-demo`` (with the e-mail and phone
the ERP holds, so importing them updates 20) and three new ones; invoices and payments name demo
debtors only, so after ``seed-demo`` the files import in the order debtors → invoices → payments.
invoices.xlsx holds the same invoices as invoices.csv, with date and number cells as Excel writes
them; importing one after the other changes nothing the second time.

    .venv/bin/python docs/samples/make_samples.py [OUTPUT_FOLDER]

The output is byte-for-byte reproducible (fixed workbook properties and ZIP time stamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

# fmt: off
DEBTOR_COLUMNS = ["external_id", "name", "kind", "registration_id", "address", "email", "phone", "jurisdiction"]
INVOICE_COLUMNS = ["external_id", "debtor", "creditor", "number", "issue_date", "delivery_date", "due_date", "currency", "amount", "contract_ref", "interest_rate"]
PAYMENT_COLUMNS = ["external_id", "debtor", "date", "currency", "amount", "invoice"]

# external_id, name, kind, registration_id, address, email, phone, jurisdiction
DEBTORS = [
    ("CN-0001", "杭州明远机电设备有限公司", "company", "91330106MA2H2B8K1X", "浙江省杭州市西湖区文三路 200 号", "caiwu@mingyuan-jd.example", "+86 571 8765 4321", "cn"),
    ("CN-0002", "苏州恒通精密制造有限公司", "company", "91320505MA1MXQ4T6P", "江苏省苏州市高新区长江路 318 号", "ap@hengtong-precision.example", "+86 512 6688 1200", "cn"),
    ("CN-0003", "深圳市华信电子科技有限公司", "company", "91440300MA5FUKR27D", "广东省深圳市南山区科技园南区 12 栋", "finance@huaxin-tech.example", "+86 755 2661 0088", "cn"),
    ("CN-0004", "宁波港城物流有限公司", "company", "91330206MA2AH7JX5L", "浙江省宁波市北仑区新碶街道 66 号", "", "+86 574 8610 2233", "cn"),
    ("CN-0005", "成都天府建材贸易有限公司", "company", "91510100MA6CN8PJ0B", "四川省成都市武侯区人民南路四段 9 号", "tianfu.jc@example.cn", "", "cn"),
    ("CN-0006", "青岛海源食品有限公司", "company", "91370212MA3N4W1Y8E", "山东省青岛市崂山区海尔路 180 号", "ar@haiyuan-food.example", "+86 532 8090 7766", "cn"),
    ("CN-0007", "李建国（个体工商户：建国五金店）", "individual", "92310115MA1GT0XK2A", "上海市浦东新区川沙路 1515 号", "", "+86 138 0213 4567", "cn"),
    ("EW-0001", "Brackley Engineering Ltd", "company", "04518273", "Unit 7, Brackley Industrial Estate, Brackley NN13 7EE", "accounts@brackley-eng.example", "+44 1280 700 123", "ew"),
    ("EW-0002", "Harrowgate Fabrications Limited", "company", "09876123", "22 Station Road, Harrogate HG1 1JP", "purchase.ledger@harrowgate-fab.example", "+44 1423 500 456", "ew"),
    ("EW-0003", "Pennine Plastics plc", "company", "03344556", "Mill House, Calder Street, Halifax HX1 5QY", "payables@pennine-plastics.example", "+44 1422 330 789", "ew"),
    ("EW-0004", "Medway Marine Supplies Ltd", "company", "07766554", "Dock Road, Chatham ME4 4SR", "", "+44 1634 880 012", "ew"),
    ("EW-0005", "Thomas Whitfield t/a Whitfield Joinery", "individual", "", "3 Orchard Close, Ledbury HR8 2AB", "tom@whitfield-joinery.example", "+44 7700 900 345", "ew"),
    ("EW-0006", "Severn Valley Foods Limited", "company", "06123987", "Riverside Park, Worcester WR5 3RL", "ap@severnvalleyfoods.example", "", "ew"),
    ("EW-0007", "Cotswold Print & Pack Ltd", "company", "05432109", "Cirencester Business Park, Cirencester GL7 1YT", "accounts@cotswold-pp.example", "+44 1285 640 678", "ew"),
    ("EW-0008", "Humber Estuary Logistics Ltd", "company", "11223344", "Albert Dock, Hull HU1 2DP", "finance@humber-logistics.example", "+44 1482 220 901", "ew"),
    ("US-0001", "Lakeshore Tooling LLC", "company", "IL-LLC-0567123", "1450 W Fulton St, Chicago, IL 60607", "ap@lakeshoretooling.example", "+1 312 555 0142", "us"),
    ("US-0002", "Prairie State Distributors Inc.", "company", "IL-CORP-6671209", "800 E Monroe St, Springfield, IL 62701", "payables@prairiestate.example", "+1 217 555 0178", "us"),
    ("US-0003", "Fox River Packaging Co.", "company", "IL-CORP-5528341", "210 N Broadway, Aurora, IL 60505", "", "+1 630 555 0119", "us"),
    ("US-0004", "Midwest Hydraulics Corp.", "company", "IL-CORP-4419902", "5500 N Cicero Ave, Chicago, IL 60646", "ar@midwesthydraulics.example", "+1 773 555 0163", "us"),
    ("US-0005", "Daniel Ortega d/b/a Ortega Welding", "individual", "", "77 Kankakee St, Joliet, IL 60432", "dan@ortegawelding.example", "+1 815 555 0137", "us"),
    ("US-0006", "Heartland Agri Supply LLC", "company", "IL-LLC-0711544", "3100 W Main St, Peoria, IL 61604", "office@heartlandagri.example", "", "us"),
    ("US-0007", "Great Lakes Fasteners Inc.", "company", "IL-CORP-7712004", "925 S Wabash Ave, Chicago, IL 60605", "ap@greatlakesfasteners.example", "+1 312 555 0190", "us"),
    ("CN-0008", "天津滨海重工机械有限公司", "company", "91120116MA06K2LP9W", "天津市滨海新区第三大街 51 号", "caiwu@binhai-hi.example", "+86 22 6620 3344", "cn"),
]

# external_id, debtor, creditor, number, issue_date, delivery_date, due_date, currency, amount, contract_ref, interest_rate
INVOICES = [
    ("AR-NWC-240311", "EW-0001", "NWC-UK", "SI-24-01873", "2024-03-11", "2024-03-08", "2024-04-10", "GBP", "18450.00", "FA-2023-014", "8"),
    ("AR-NWC-240402", "EW-0001", "NWC-UK", "SI-24-02011", "2024-04-02", "2024-03-28", "2024-05-02", "GBP", "7320.50", "FA-2023-014", "8"),
    ("AR-NWC-240617", "EW-0001", "NWC-UK", "SI-24-02466", "2024-06-17", "2024-06-14", "2024-07-17", "GBP", "12980.00", "FA-2023-014", "8"),
    ("AR-NWC-240515", "EW-0002", "NWC-UK", "SI-24-02290", "2024-05-15", "2024-05-13", "2024-06-14", "GBP", "4860.75", "", ""),
    ("AR-NWC-240903", "EW-0002", "NWC-UK", "SI-24-03105", "2024-09-03", "2024-09-02", "2024-10-03", "GBP", "9215.40", "", ""),
    ("AR-NWC-241021", "EW-0003", "NWC-UK", "SI-24-03390", "2024-10-21", "2024-10-18", "2024-11-20", "GBP", "26700.00", "MSA-PP-2022", ""),
    ("AR-NWC-250114", "EW-0003", "NWC-UK", "SI-25-00142", "2025-01-14", "2025-01-10", "2025-02-13", "GBP", "15320.00", "MSA-PP-2022", ""),
    ("AR-NWC-250203", "EW-0004", "NWC-UK", "SI-25-00388", "2025-02-03", "2025-01-31", "2025-03-05", "GBP", "3145.20", "", ""),
    ("AR-NWC-250318", "EW-0005", "NWC-UK", "SI-25-00671", "2025-03-18", "2025-03-17", "2025-04-17", "GBP", "1875.00", "", ""),
    ("AR-NWC-250509", "EW-0006", "NWC-UK", "SI-25-01020", "2025-05-09", "2025-05-07", "2025-06-08", "GBP", "42150.00", "SVF-2024-03", "4"),
    ("AR-NWC-250722", "EW-0007", "NWC-UK", "SI-25-01544", "2025-07-22", "2025-07-21", "2025-08-21", "GBP", "6408.90", "", ""),
    ("AR-NWC-240805", "US-0001", "NWC-UK", "SI-24-02874", "2024-08-05", "2024-08-01", "2024-09-19", "USD", "38600.00", "LT-PO-55120", "9"),
    ("AR-NWC-241118", "US-0001", "NWC-UK", "SI-24-03611", "2024-11-18", "2024-11-15", "2025-01-02", "USD", "21475.00", "LT-PO-55871", "9"),
    ("AR-NWC-240926", "US-0002", "NWC-UK", "SI-24-03222", "2024-09-26", "2024-09-24", "2024-11-10", "USD", "57320.00", "", ""),
    ("AR-NWC-250227", "US-0003", "NWC-UK", "SI-25-00502", "2025-02-27", "2025-02-25", "2025-04-13", "USD", "8940.35", "", ""),
    ("AR-NWC-250612", "US-0004", "NWC-UK", "SI-25-01266", "2025-06-12", "2025-06-10", "2025-07-27", "USD", "112500.00", "MH-2025-007", "6.5"),
    ("AR-NWC-250904", "US-0005", "NWC-UK", "SI-25-01902", "2025-09-04", "2025-09-03", "2025-10-19", "USD", "2650.00", "", ""),
    ("AR-NWC-251110", "US-0006", "NWC-UK", "SI-25-02317", "2025-11-10", "2025-11-07", "2025-12-25", "USD", "17890.60", "", ""),
    ("AR-DH-240422", "CN-0001", "DH-CN", "DH-FP-2024-0417", "2024-04-22", "2024-04-20", "2024-06-21", "CNY", "386400.00", "DH-XS-2024-031", ""),
    ("AR-DH-240719", "CN-0001", "DH-CN", "DH-FP-2024-0822", "2024-07-19", "2024-07-18", "2024-09-17", "CNY", "254800.00", "DH-XS-2024-031", ""),
    ("AR-DH-240612", "CN-0002", "DH-CN", "DH-FP-2024-0665", "2024-06-12", "2024-06-11", "2024-08-11", "CNY", "129350.00", "DH-XS-2024-044", "5.475"),
    ("AR-DH-241008", "CN-0003", "DH-CN", "DH-FP-2024-1203", "2024-10-08", "2024-10-08", "2024-12-07", "CNY", "512000.00", "DH-XS-2024-058", ""),
    ("AR-DH-250116", "CN-0003", "DH-CN", "DH-FP-2025-0046", "2025-01-16", "2025-01-15", "2025-03-17", "USD", "48200.00", "DH-EX-2025-002", ""),
    ("AR-DH-241125", "CN-0004", "DH-CN", "DH-FP-2024-1389", "2024-11-25", "2024-11-22", "2025-01-24", "CNY", "76540.00", "", ""),
    ("AR-DH-250305", "CN-0005", "DH-CN", "DH-FP-2025-0231", "2025-03-05", "2025-03-04", "2025-05-04", "CNY", "198760.50", "DH-XS-2025-009", ""),
    ("AR-DH-250528", "CN-0006", "DH-CN", "DH-FP-2025-0587", "2025-05-28", "2025-05-27", "2025-07-27", "CNY", "93200.00", "", ""),
    ("AR-DH-250830", "CN-0006", "DH-CN", "DH-FP-2025-0940", "2025-08-30", "2025-08-29", "2025-10-29", "CNY", "61480.00", "", ""),
    ("AR-DH-251015", "CN-0007", "DH-CN", "DH-FP-2025-1126", "2025-10-15", "2025-10-15", "2025-12-14", "CNY", "18650.00", "", ""),
    ("AR-DH-251202", "CN-0002", "DH-CN", "DH-FP-2025-1318", "2025-12-02", "2025-12-01", "2026-01-31", "CNY", "142300.00", "DH-XS-2025-071", "5.475"),
    ("AR-DH-260108", "CN-0003", "DH-CN", "DH-FP-2026-0011", "2026-01-08", "2026-01-07", "2026-03-09", "CNY", "88900.00", "DH-XS-2026-001", ""),
]

# external_id, debtor, date, currency, amount, invoice (empty: to the oldest open invoice)
PAYMENTS = [
    ("RC-24-0512", "EW-0001", "2024-05-20", "GBP", "18450.00", "AR-NWC-240311"),
    ("RC-24-0731", "EW-0001", "2024-07-31", "GBP", "3000.00", "AR-NWC-240402"),
    ("RC-24-0712", "EW-0002", "2024-07-12", "GBP", "4860.75", "AR-NWC-240515"),
    ("RC-25-0120", "EW-0003", "2025-01-20", "GBP", "10000.00", ""),
    ("RC-24-1004", "US-0001", "2024-10-04", "USD", "38600.00", "AR-NWC-240805"),
    ("RC-25-0115", "US-0002", "2025-01-15", "USD", "20000.00", ""),
    ("RC-25-0304", "US-0002", "2025-03-04", "USD", "15000.00", ""),
    ("RC-24-0930", "CN-0001", "2024-09-30", "CNY", "200000.00", "AR-DH-240422"),
    ("RC-24-0905", "CN-0002", "2024-09-05", "CNY", "129350.00", "AR-DH-240612"),
    ("RC-25-0228", "CN-0003", "2025-02-28", "CNY", "300000.00", ""),
    ("RC-25-0410", "CN-0003", "2025-04-10", "USD", "12000.00", "AR-DH-250116"),
    ("RC-25-0801", "CN-0006", "2025-08-01", "CNY", "93200.00", "AR-DH-250528"),
]

# fmt: on

#: Workbook properties and ZIP time stamps, fixed so the file does not change on every run.
FIXED_TIME = dt.datetime(2026, 1, 15, 9, 0, 0)


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def invoice_cells(row: tuple) -> list:
    """An invoice as an ERP's Excel export holds it: date cells, number cells, text."""
    cells = list(row)
    for index in (4, 5, 6):
        cells[index] = dt.date.fromisoformat(row[index])
    cells[8] = float(Decimal(row[8]))
    cells[10] = float(Decimal(row[10])) if row[10] else None
    cells[9] = row[9] or None
    return cells


def invoices_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "AR Open Items"
    sheet.append(INVOICE_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in INVOICES:
        sheet.append(invoice_cells(row))
    for row in sheet.iter_rows(min_row=2):
        for index in (4, 5, 6):
            row[index].number_format = "yyyy-mm-dd"
        row[8].number_format = "#,##0.00"
    for letter, width in zip(
        "ABCDEFGHIJK", (16, 10, 9, 18, 12, 12, 12, 9, 14, 16, 12), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    workbook.properties.creator = "ERP export"
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every entry, and the "modified" property, dated ``FIXED_TIME``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the time of saving into the properties.
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, content)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, content)
    return output.getvalue()


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "debtors.csv", DEBTOR_COLUMNS, DEBTORS)
    write_csv(folder / "invoices.csv", INVOICE_COLUMNS, INVOICES)
    write_csv(folder / "payments.csv", PAYMENT_COLUMNS, PAYMENTS)
    (folder / "invoices.xlsx").write_bytes(invoices_xlsx())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
