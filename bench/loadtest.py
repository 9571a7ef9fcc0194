"""make loadtest: concurrent inspectors closing visits against gunicorn and PostgreSQL.

20 inspectors (LOAD_CLOSERS) each start, finish and confirm occupancy visits through the real
pages for LOAD_SECONDS (60), while readers search, open Work views and download PDFs. Then
the database and the stored files are checked: no error, no duplicate and no missing permit
number, every closed visit has its permit, every stored PDF matches its SHA-256.

Runs against its own database (threshold_load), never the test or demo ones.
"""

import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "threshold_load"
CLOSERS = int(os.environ.get("LOAD_CLOSERS", "20"))
READERS = int(os.environ.get("LOAD_READERS", "4"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
PER_INSPECTOR = int(os.environ.get("LOAD_INSPECTIONS_EACH", "120"))
PASSWORD = "load-test-password-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(media: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update(
        DATABASE_URL=f"{PG}/{DB_NAME}",
        MEDIA_ROOT=media,
        SECRET_KEY="load-test-only-" + "x" * 40,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="0",
        EMAIL_URL="dummy://",
        LOGIN_FAILURE_LIMIT="1000",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


SETUP = """
import django; django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from inspections.models import InspectionType, Inspection
from occupancy.defaults import default_template
from occupancy.models import OccupancyPermitType, OccupancyPermitTemplate
from occupancy.services import permit_template_save
from core.models import Membership, Municipality
from permits.models import Application, ApplicationStatus
import json, sys
closers, each = int(sys.argv[1]), int(sys.argv[2])
m = Municipality.objects.create(slug="load", name="Town of Load", city="Load")
kind = InspectionType.objects.create(municipality=m, name="Occupancy", kind="occupancy")
ptype = OccupancyPermitType.objects.create(municipality=m, name="General")
template = permit_template_save(template=OccupancyPermitTemplate(
    municipality=m, permit_type=ptype, name="General",
    **default_template("general.html")._asdict()),
    actor=None)
User = get_user_model()
plan = {"template": template.pk, "inspectors": {}}
for i in range(closers):
    user = User.objects.create_user(
        f"load{i:02}", password=sys.argv[3], first_name=f"Inspector {i}")
    Membership.objects.create(user=user, municipality=m, role="inspector")
    codes = []
    for j in range(each):
        app = Application.objects.create(
            municipality=m, number=f"L-{i:02}-{j:04}", description="Load test dwelling",
            street_address=f"{j + 1} Load Street", city="Load", applicant_name="Applicant",
            owner_name=f"Owner {i} {j}", status=ApplicationStatus.CONSTRUCTION_STARTED)
        codes.append(Inspection.objects.create(application=app, inspection_type=kind).code)
    plan["inspectors"][user.username] = codes
print(json.dumps(plan))
"""


class Session:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post(self, path: str, data: dict) -> tuple[int, str, bytes]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        try:
            with self.opener.open(request, timeout=120) as r:
                return r.status, r.geturl(), r.read()
        except urllib.error.HTTPError as e:
            return e.code, path, e.read()

    def login(self, username: str) -> None:
        self.get("/accounts/login/")
        self.post("/accounts/login/", {"username": username, "password": PASSWORD})
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError(f"login failed for {username}")


def run() -> dict:
    media = tempfile.mkdtemp(prefix="threshold-load-")
    env = environment(media)
    subprocess.run(
        ["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"Creating {CLOSERS} inspectors × {PER_INSPECTOR} occupancy inspections …", flush=True)
    plan = json.loads(
        subprocess.run(
            [python, "-c", SETUP, str(CLOSERS), str(PER_INSPECTOR), PASSWORD],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    port = free_port()
    workers = os.environ.get("LOAD_WORKERS", "4")
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", workers,
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(60):
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    errors: list[str] = []
    closes: list[float] = []
    reads: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def closer(username: str, codes: list[str]) -> None:
        session = Session(base)
        session.login(username)
        for code in codes:
            if time.monotonic() > deadline:
                return
            started = time.monotonic()
            confirmation: dict[str, str] = {}  # filled from the confirmation page
            steps = [
                (f"/inspections/{code}/visits/start", {}),
                (
                    f"/occupancy/inspections/{code}/result",
                    {
                        "action": "finish", "visit_type": "on_site", "result": "granted_full",
                        "template": plan["template"], "granted_on": time.strftime("%Y-%m-%d"),
                        "description": "Whole building", "failure_reason": "",
                    },
                ),
                (f"/occupancy/inspections/{code}/close", confirmation),
            ]  # fmt: skip
            for path, data in steps:
                status, url, body = session.post(path, data)
                if status != 200:
                    with lock:
                        errors.append(f"{username} {path}: HTTP {status}")
                    break
                # The result form leads to the confirmation page: confirm the draft it shows.
                if shown := re.search(rb'name="draft_fingerprint" value="([0-9a-f]+)"', body):
                    confirmation["draft_fingerprint"] = shown.group(1).decode()
            else:
                if b"Occupancy permit" not in body or b"issued." not in body:
                    with lock:
                        errors.append(f"{username} {code}: no confirmation shown")
                    continue
                with lock:
                    closes.append(time.monotonic() - started)

    def reader(n: int) -> None:
        session = Session(base)
        session.login("load00")
        rng = random.Random(n)
        while time.monotonic() < deadline:
            started = time.monotonic()
            path = rng.choice(["/", "/?q=load+street", f"/?q=L-{rng.randrange(CLOSERS):02}"])
            status, body = session.get(path)
            pdfs = re.findall(rb'href="(/occupancy/load/[^"]+\.pdf)"', body)
            if status == 200:
                apps = re.findall(rb'href="(/applications/load/[^"]+/)"', body)
                if apps:
                    status, body = session.get(rng.choice(apps).decode())
                    pdfs = re.findall(rb'href="(/occupancy/load/[^"]+\.pdf)"', body)
                if status == 200 and pdfs:
                    status, body = session.get(rng.choice(pdfs).decode())
                    if status == 200 and not body.startswith(b"%PDF"):
                        status = -1
            with lock:
                if status != 200:
                    errors.append(f"reader {path}: HTTP {status}")
                reads.append(time.monotonic() - started)

    threads = [
        threading.Thread(target=closer, args=(u, c)) for u, c in plan["inspectors"].items()
    ] + [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    server.terminate()
    server.wait(timeout=30)

    CHECK = """
import django, json, re; django.setup()
from inspections.models import Visit
from occupancy.models import OccupancyPermit
from occupancy.records import verify_documents
numbers = list(OccupancyPermit.objects.values_list("number", flat=True))
seqs = sorted(int(re.search(r"(\\d+)$", n).group(1)) for n in numbers)
closed = Visit.objects.filter(status="closed").count()
open_left = Visit.objects.filter(status="open").count()
checked, problems = verify_documents()
print(json.dumps({"permits": len(numbers), "distinct": len(set(numbers)),
  "gaps": sorted(set(range(1, (seqs[-1] if seqs else 0) + 1)) - set(seqs))[:20],
  "closed_visits": closed, "visits_left_open": open_left,
  "documents_checked": checked, "hash_mismatches": [p.identifier for p in problems]}))
"""
    check = json.loads(
        subprocess.run(
            [python, "-c", CHECK], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    shutil.rmtree(media, ignore_errors=True)
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", DB_NAME])

    def pct(values, p):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(len(values) * p))] * 1000) if values else None

    return {
        "closers": CLOSERS,
        "readers": READERS,
        "seconds": round(elapsed, 1),
        "gunicorn_workers": int(workers),
        "closes": len(closes),
        "closes_per_second": round(len(closes) / elapsed, 2),
        "close_p50_ms": pct(closes, 0.5),
        "close_p95_ms": pct(closes, 0.95),
        "reads": len(reads),
        "read_p95_ms": pct(reads, 0.95),
        "errors": len(errors),
        "error_samples": errors[:10],
        "duplicates": check["permits"] - check["distinct"],
        "gaps": check["gaps"],
        **{k: check[k] for k in ("permits", "closed_visits", "visits_left_open")},
        "documents_checked": check["documents_checked"],
        "hash_mismatches": check["hash_mismatches"],
    }


def main() -> int:
    result = run()
    out = ROOT / "bench" / "loadtest-results.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = (
        result["errors"] == 0
        and result["duplicates"] == 0
        and not result["gaps"]
        and not result["hash_mismatches"]
        and result["permits"] == result["closed_visits"] == result["closes"]
    )
    print("LOAD TEST PASSED" if ok else "LOAD TEST FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
