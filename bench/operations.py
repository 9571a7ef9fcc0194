"""The operations the benchmark times, written once for both ways of sending them: over
HTTP to gunicorn (bench.client.Session) and in-process through Django's test Client, where
CaptureQueriesContext counts each one's SQL queries.

An operation is `action(session, client_index)`: it returns None when the response is the
expected one, else a short description of what went wrong; it raises StopIteration when it
has no target left (state changes consume theirs). Over HTTP each request picks a random
target; in process a read can be given one (`target=`: a search term or a page's URL), so
that repeating the same request counts the same queries.
"""

import io
import itertools
import random
import re
import threading
import time
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench.targets import Targets

PAGES = [
    "search_number",
    "search_street",
    "search_owner",
    "search_no_match",
    "work_view",
    "inspection_view",
]
STATE_CHANGES = ["visit_start", "finding_add", "photo_upload", "finish_and_close"]
NAMES = [*PAGES, *STATE_CHANGES, "pdf_download"]
BASELINES = ["bare_view", "bare_weasyprint"]


class InProcess:
    """Django's test Client with the Session interface (no CSRF, no network)."""

    def __init__(self, user):
        self.client = Client(HTTP_HOST="localhost")
        self.client.force_login(user)

    @staticmethod
    def _result(response):
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, response.headers, content

    def get(self, path):
        return self._result(self.client.get(path))

    def post(self, path, fields):
        return self._result(self.client.post(path, fields))

    def post_multipart(self, path, fields, files):
        data = dict(fields)
        for name, (filename, content, content_type) in files.items():
            data[name] = SimpleUploadedFile(filename, content, content_type)
        return self._result(self.client.post(path, data))


class Pool:
    """Targets handed out once each, across threads."""

    def __init__(self, items):
        self.items = list(items)
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if not self.items:
                raise StopIteration
            return self.items.pop()


def site_photo() -> bytes:
    """A 12-megapixel JPEG like a phone's (4032 × 3024, some texture so it does not
    compress to nothing)."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.radial_gradient("L").resize((4032, 3024)).convert("RGB")
    draw = ImageDraw.Draw(image)
    rng = random.Random(7)
    for _ in range(4000):
        x, y = rng.randrange(4032), rng.randrange(3024)
        draw.rectangle(
            (x, y, x + rng.randrange(4, 60), y + rng.randrange(4, 60)),
            fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        )
    image = image.filter(ImageFilter.GaussianBlur(1))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _expect(status, expected, content=b"", must_contain: bytes = b""):
    if status != expected:
        return f"HTTP {status}, expected {expected}"
    if must_contain and must_contain not in content:
        return f"response lacks {must_contain[:40]!r}"
    return None


def search_actions(targets: Targets, rng: random.Random) -> dict:
    """The searches by kind (search_number, …), each with the terms it picks from."""

    def search(kind):
        terms = targets.searches[kind]

        def action(session, index, target=None):
            term = target or rng.choice(terms)
            status, _, content = session.get("/?" + urlencode({"q": term}))
            if kind == "search_number":
                return _expect(status, 200, content, term.encode())
            if kind == "search_no_match":
                return _expect(status, 200, content, b"No application matches")
            return _expect(status, 200)

        action.targets = terms  # what in-process measurements pick from
        return action

    return {kind: search(kind) for kind in targets.searches}


def bare_view(session, index):
    status, _, content = session.get("/bench/bare")
    return _expect(status, 200, content, b"ok")


def build(targets: Targets, *, clients: int, reserved: dict[str, list]) -> dict:
    """The actions by name. `reserved` receives, per consuming operation, targets kept
    apart from the HTTP run for the in-process query count."""
    rng = random.Random(11)
    today = timezone.localdate().isoformat()
    photo = site_photo()

    def work_view(session, index, target=None):
        status, _, _ = session.get(target or rng.choice(targets.applications))
        return _expect(status, 200)

    def inspection_view(session, index, target=None):
        status, _, content = session.get(target or rng.choice(targets.long_inspections))
        return _expect(status, 200, content, b"is open</strong>")

    typical = [reverse("inspections:inspection_detail", args=[c]) for c in targets.open_visits]

    def inspection_view_typical(session, index, target=None):
        """Diagnostic: an inspection with an ordinary history (and an open visit)."""
        status, _, content = session.get(target or rng.choice(typical[:100]))
        return _expect(status, 200, content, b"is open</strong>")

    starts = Pool(targets.not_started)
    reserved["visit_start"] = [starts.take() for _ in range(2)]

    def visit_start(session, index, code=None):
        code = code or starts.take()
        status, _, _ = session.post(reverse("inspections:visit_start", args=[code]), {})
        return _expect(status, 302)

    # Open visits are shared round robin, each client its own share: two clients adding to
    # the same visit would wait for each other's row lock, which inspectors never do.
    shares = [itertools.cycle(targets.open_visits[i::clients]) for i in range(clients)]

    def finding_add(session, index):
        code = next(shares[index])
        status, _, _ = session.post(
            reverse("inspections:finding_add", args=[code]),
            {
                "discovery_date": today,
                "description": "Guard missing at the basement stair landing",
            },
        )
        return _expect(status, 302)

    def photo_upload(session, index):
        code = next(shares[index])
        status, _, _ = session.post_multipart(
            reverse("inspections:photos_add", args=[code]),
            {"description": "North elevation, stair landing", "finding": ""},
            {"photos": ("IMG_2041.jpg", photo, "image/jpeg")},
        )
        return _expect(status, 302)

    closable = Pool(targets.closable)
    # One warm-up, one measured, one profiled (bench.inprocess).
    reserved["finish_and_close"] = [closable.take() for _ in range(3)]

    def finish_and_close(session, index, code=None):
        """Finish and Close Inspection with a full grant: the result form (action=finish),
        then "Yes, close the inspection" on the confirmation page. Each of its three
        requests' latency is appended to finish_and_close.steps (result form, confirmation
        page, close), so the close request alone is reported beside the whole."""
        code = code or closable.take()
        began = time.perf_counter()
        status, headers, _ = session.post(
            reverse("occupancy:visit_result", args=[code]),
            {
                "action": "finish",
                "visit_type": "on_site",
                "internal_notes": "",
                "site_conditions": "Dry, all areas accessible",
                "time_used_minutes": "45",
                "result": "granted_full",
                "failure_reason": "",
                "template": str(targets.template_id),
                "granted_on": today,
                "description": "Single detached dwelling, two storeys, with attached garage.",
                "portion_of_building": "",
                "expires_on": "",
            },
        )
        if status != 302 or "/confirm" not in headers.get("Location", ""):
            return f"result form: HTTP {status} {headers.get('Location', '')}"
        saved = time.perf_counter()
        status, _, content = session.get(headers["Location"])
        shown = re.search(rb'name="draft_fingerprint" value="([0-9a-f]+)"', content)
        if status != 200 or shown is None:
            return f"confirmation page: HTTP {status}, no draft fingerprint"
        confirmed = time.perf_counter()
        status, headers, _ = session.post(
            reverse("occupancy:visit_close", args=[code]),
            {"draft_fingerprint": shown.group(1).decode()},
        )
        closed = time.perf_counter()
        finish_and_close.steps.append(  # list.append: safe across the client threads
            tuple(
                round((b - a) * 1000, 1)
                for a, b in ((began, saved), (saved, confirmed), (confirmed, closed))
            )
        )
        # Closed: back to the inspection's visits. A refusal (another close in progress,
        # a close error) also redirects, elsewhere, with its message.
        location = headers.get("Location", "")
        if status != 302 or not location.endswith("#visits"):
            return f"close: HTTP {status} {location}"
        return None

    finish_and_close.steps = []

    def pdf_download(session, index, target=None):
        status, _, content = session.get(target or rng.choice(targets.permits))
        return _expect(status, 200, content[:8], b"%PDF")

    def bare_weasyprint(session, index):
        status, _, content = session.get("/bench/weasyprint")
        return _expect(status, 200, content[:8], b"%PDF")

    choices = {
        "work_view": targets.applications,
        "inspection_view": targets.long_inspections,
        "inspection_view_typical": typical[:100],
        "pdf_download": targets.permits,
    }
    searches = search_actions(targets, rng)
    for name, action in [
        ("work_view", work_view),
        ("inspection_view", inspection_view),
        ("inspection_view_typical", inspection_view_typical),
        ("pdf_download", pdf_download),
    ]:
        action.targets = choices[name]  # what in-process measurements pick from
    return {
        **searches,
        "work_view": work_view,
        "inspection_view": inspection_view,
        "inspection_view_typical": inspection_view_typical,
        "visit_start": visit_start,
        "finding_add": finding_add,
        "photo_upload": photo_upload,
        "finish_and_close": finish_and_close,
        "pdf_download": pdf_download,
        "bare_view": bare_view,
        "bare_weasyprint": bare_weasyprint,
    }
