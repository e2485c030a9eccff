"""'Today' is business time: the server's time zone never moves a claim's figures.

Two processes on the same database, one in TZ=Pacific/Kiritimati (UTC+14) and one in
TZ=Etc/GMT+12 (UTC-12), are 26 hours apart: their local dates always differ. Both compute the
same case's claim, with no date given and with one given; the figures must be identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from portal import business_time

SCRIPT = """
import json, sys
from portal import create_app
from portal.cases.claims import build_claims
from portal.cases.models import Case
from portal.extensions import db
import datetime as dt

app = create_app()
with app.app_context():
    case = db.session.get(Case, int(sys.argv[1]))
    out = {}
    for label, as_of in (("today", None), ("given", dt.date(2026, 11, 30))):
        claim = build_claims([case], as_of)[case.id]
        out[label] = {
            "as_of": claim.as_of.isoformat(),
            "principal": str(claim.principal),
            "paid": str(claim.paid),
            "interest": json.loads(json.dumps(claim.interest, default=str)),
            "invoices": [str(item) for item in claim.invoices],
        }
    print(json.dumps(out, sort_keys=True))
"""


def test_claims_are_identical_whatever_the_server_time_zone(app, world):
    env = dict(os.environ)
    env["PORTAL_DATABASE_URL"] = app.config["DATABASE_URL"]
    env["PORTAL_SECRET_KEY"] = app.config["SECRET_KEY"]
    env["PORTAL_FILE_STORE_PATH"] = app.config["FILE_STORE_PATH"]
    env["PORTAL_JOBS_SQLITE_PATH"] = app.config["JOBS_SQLITE_PATH"]
    runs = {}
    for tz in ("Pacific/Kiritimati", "Etc/GMT+12"):
        started = time.time()
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(world.assigned_case)],
            env={**env, "TZ": tz},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        runs[tz] = json.loads(result.stdout.strip().splitlines()[-1])
        assert time.time() - started < 120
    kiritimati, baker = runs["Pacific/Kiritimati"], runs["Etc/GMT+12"]
    assert kiritimati == baker
    # "Today" is the case's business date (an English case: Europe/London), not either
    # server's local date.
    with app.app_context():
        from portal.cases.models import Case
        from portal.extensions import db

        jurisdiction = db.session.get(Case, world.assigned_case).jurisdiction
        assert kiritimati["today"]["as_of"] == business_time.today(jurisdiction).isoformat()


def test_each_jurisdiction_has_its_business_zone(app):
    with app.app_context():
        assert str(business_time.zone("cn")) == "Asia/Shanghai"
        assert str(business_time.zone("ew")) == "Europe/London"
        assert str(business_time.zone("us")) == "America/Chicago"
        assert str(business_time.zone(None)) == "UTC"
        app.config["BUSINESS_TIMEZONES"] = {"us": "America/New_York"}
        assert str(business_time.zone("us")) == "America/New_York"
        assert str(business_time.zone("cn")) == "Asia/Shanghai"  # the others keep theirs
