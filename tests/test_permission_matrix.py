"""Every URL of the app and of the admin × every persona, with the outcome each must get.

The personas: anonymous; Town of Alpha's viewer, clerk, inspector, chief building official
and municipal administrator; Township of Beta's inspector and municipal administrator
(another municipality's users); the superuser (the platform operator).

App URLs (MATRIX): anonymous users are sent to the login page; another municipality's users
get a 404 (a record's existence is not revealed) except on the list, which shows them none
of Alpha's records; a role without the act's permission gets a 403; a wrong method is a 405.
Every state-changing URL is posted with a valid payload (POSTS): an allowed persona's
request does what it should (its `effect`), a refused one changes no row of any table and no
file. No GET changes anything.

Admin URLs: every registered model's change list, add page and, for a row of Alpha, its
change, history and delete pages (ADMIN_MODELS says what the municipal administrator's role
may do with each, and what the admin class refuses to everyone), the project's own admin pages
(ADMIN_OBJECT_URLS) and the admin site's pages (ADMIN_SITE_URLS). The refused POSTs change
nothing. A URL without an entry here fails test_every_url_has_an_entry.
"""

import dataclasses
import datetime
import hashlib
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.models import Activity, Delivery, DeliveryKind, DeliveryStatus, Role
from demo import builders
from exchange.models import ImportRun
from inspections.models import (
    Finding,
    Inspection,
    InspectionStatus,
    Order,
    Photo,
    Visit,
    VisitStatus,
    VisitType,
)
from occupancy.confirmation import draft_fingerprint
from occupancy.models import (
    OccupancyPermit,
    OccupancyPermitRevocation,
    PermitStatus,
    PermitVerification,
    VerificationLookup,
)
from occupancy.services import visit_result_save_draft
from tests.conftest import client_for, make_user
from tests.core.test_admin_scoping import one_of_everything, rows_of
from tests.db_rows import media_files, tables_digest
from tests.factories import (
    jpeg_upload,
    make_closed_visit,
    make_finding,
    make_inspection,
    make_order,
)
from tests.permits.test_constraints import issue_raw_permit

User = get_user_model()
TODAY = timezone.localdate()

PERSONAS = [
    "anonymous",
    "viewer",
    "clerk",
    "inspector",
    "chief",
    "town_admin",
    "inspector_b",
    "town_admin_b",
    "admin",
]
# persona → its fixture in tests/conftest.py
PERSONA_FIXTURES = {
    "viewer": "viewer",
    "clerk": "clerk",
    "inspector": "inspector",
    "chief": "chief",
    "town_admin": "town_admin",
    "inspector_b": "inspector_b",
    "town_admin_b": "town_admin_b",
    "admin": "admin_user",
}
OTHER_MUNICIPALITY = {"inspector_b", "town_admin_b"}

# Who may do what in Town of Alpha (core/migrations/0002_roles_and_permissions.py).
READ = {"viewer", "clerk", "inspector", "chief", "town_admin", "admin"}
ADD_INSPECTION = {"clerk", "inspector", "chief", "admin"}
RECORD = {"inspector", "chief", "admin"}
# Resend an e-mail about an application (permits.change_application).
CHANGE_APPLICATION = {"clerk", "inspector", "chief", "admin"}
REVOKE = {"chief", "admin"}

# Inspection requests (scheduling): who requests, who dispatches; My today and the calendar
# address are every inspector's, another municipality's too (UNSCOPED: pages of no record).
REQUEST = {"clerk", "inspector", "chief", "admin"}
DISPATCH = {"clerk", "chief", "admin"}
# Cancelling a request: the dispatchers' roles (scheduling/migrations/0006_request_cancel.py).
CANCEL_REQUEST = {"clerk", "chief", "admin"}
INSPECTS = RECORD | {"inspector_b"}
UNSCOPED = {"scheduling:dispatch", "scheduling:my_today", "scheduling:calendar_reset"}


def _scheduling_rows(application, municipality, inspector) -> dict:
    """A request to assign, one to move, one to decline, one to cancel and two of the
    inspector's day to reorder, on the next business days (each of its own inspection type:
    one open request per type)."""
    from scheduling import rules
    from scheduling.models import InspectionRequest, RequestStatus

    calendar = rules.Calendar(municipality)
    day = calendar.next_business_day(rules.today())
    later = calendar.next_business_day(day)

    def request(name, **fields):
        kind = builders.inspection_type(municipality=municipality, name=name)
        return InspectionRequest.objects.create(
            municipality=municipality,
            application=application,
            inspection_type=kind,
            inspection=make_inspection(application, kind),
            requested_date=day,
            site_contact_name="Sam Builder",
            site_contact_phone="905-555-0142",
            requested_by=inspector,
            **fields,
        )

    booked = {"status": RequestStatus.CONFIRMED, "assigned_inspector": inspector}
    return {
        "day": day,
        "later": later,
        "inspector": inspector,
        "to_assign": request("Plumbing"),
        "to_move": request("Drains", **booked, confirmed_date=day, position=1),
        "to_decline": request("Septic"),
        "to_cancel": request("Pool fence", **booked, confirmed_date=day, position=2),
        "first": request("Fire separations", **booked, confirmed_date=later, position=1),
        "second": request("Insulation check", **booked, confirmed_date=later, position=2),
    }


def _request_made(w, user):
    from scheduling.models import InspectionRequest

    made = InspectionRequest.objects.get(requested_by=user, inspection_type__name="Framing")
    assert made.site_contact_name == "Pat Builder"


def _request_assigned(w, user):
    assigned = _reloaded(w.requests["to_assign"])
    assert (assigned.status, assigned.confirmed_date) == ("confirmed", w.requests["day"])


def _request_moved(w, user):
    moved = _reloaded(w.requests["to_move"])
    assert (moved.confirmed_date, moved.half_day) == (w.requests["later"], "afternoon")


def _request_declined(w, user):
    declined = _reloaded(w.requests["to_decline"])
    assert (declined.status, declined.decline_reason) == ("declined", "No permit issued yet")


def _request_cancelled(w, user):
    cancelled = _reloaded(w.requests["to_cancel"])
    assert (cancelled.status, cancelled.cancel_reason, cancelled.cancelled_by) == (
        "cancelled",
        "The owner asked to cancel",
        user,
    )


def _request_reordered(w, user):
    # Only the request's own inspector orders their day; anyone else changes nothing.
    moved_up = user == w.requests["inspector"]
    assert _reloaded(w.requests["second"]).position == (1 if moved_up else 2)


def _calendar_made(w, user):
    from scheduling.models import CalendarFeed

    assert CalendarFeed.objects.filter(user=user).exists()


def _earliest_request_date(w) -> str:
    from scheduling import rules

    return rules.earliest_request_date(w.application.municipality).isoformat()


# name: (GET allowed to, POST allowed to); None means the method is not accepted (405).
MATRIX = {
    "permits:application_list": (READ | OTHER_MUNICIPALITY, None),
    "permits:application_detail": (READ, None),
    "permits:application_delivery_resend": (None, CHANGE_APPLICATION),
    "inspections:inspection_add": (None, ADD_INSPECTION),
    "inspections:inspection_detail": (READ, None),
    "inspections:inspection_cancel": (None, RECORD),
    "inspections:visit_start": (None, RECORD),
    "inspections:visit_start_follow_up": (None, RECORD),
    "inspections:finding_add": (None, RECORD),
    "inspections:order_add": (None, RECORD),
    "inspections:photos_add": (None, RECORD),
    "inspections:visit_report": (READ, None),
    "inspections:finding_edit": (RECORD, RECORD),
    "inspections:finding_delete": (None, RECORD),
    "inspections:finding_corrected": (None, RECORD),
    "inspections:order_edit": (RECORD, RECORD),
    "inspections:order_delete": (None, RECORD),
    "inspections:order_complied": (None, RECORD),
    "inspections:photo_delete": (None, RECORD),
    "inspections:photo_image": (READ, None),
    "inspections:photo_thumbnail": (READ, None),
    "occupancy:permit_pdf": (READ, None),
    "occupancy:permit_revoke": (REVOKE, REVOKE),
    "occupancy:revocation_notice_pdf": (READ, None),
    "occupancy:visit_result": (None, RECORD),
    "occupancy:visit_confirm": (RECORD, None),
    "occupancy:visit_close": (None, RECORD),
    "scheduling:request_inspection": (REQUEST, REQUEST),
    "scheduling:dispatch": (DISPATCH, None),
    "scheduling:request_detail": (DISPATCH, None),
    "scheduling:request_assign": (None, DISPATCH),
    "scheduling:request_move": (None, DISPATCH),
    "scheduling:request_decline": (None, DISPATCH),
    "scheduling:request_cancel": (None, CANCEL_REQUEST),
    "scheduling:request_reorder": (None, RECORD),
    "scheduling:my_today": (INSPECTS, None),
    "scheduling:calendar_reset": (None, INSPECTS),
}
APP_NAMESPACES = {"permits", "inspections", "occupancy", "scheduling"}

# Public pages, without login: every persona (anonymous too) gets 200 for a real address;
# the only row a GET adds is the lookup's record (test_public_pages).
PUBLIC = {"occupancy:verify"}
# Checked by their own tests (tests/scheduling/test_views.py): where signing in leads (a
# redirect for everyone) and the calendar feed (no login; its secret address is the key).
OWN_TESTS = {"scheduling:landing", "scheduling:calendar_feed"}

# The addresses before issue 12 (no name): 308 to the named URL, which does the checks.
MOVED = {
    "occupancy:inspections/<str:code>/result": "occupancy:visit_result",
    "occupancy:inspections/<str:code>/confirm": "occupancy:visit_confirm",
    "occupancy:inspections/<str:code>/close": "occupancy:visit_close",
}

# Django's own account pages and the second factor's: what an anonymous GET gets (200: open
# to everyone, they are how one logs in; 302: behind login).
ACCOUNT_URLS = {
    "login": 200,
    "logout": 302,
    "password_reset": 200,
    "password_reset_done": 200,
    "password_reset_confirm": 200,
    "password_reset_complete": 200,
    "password_change": 302,
    "password_change_done": 302,
    "two_factor_status": 302,
    "two_factor_verify": 302,
    "two_factor_setup": 302,
    "two_factor_recovery_codes": 302,
    "two_factor_recovery_codes_regenerate": 302,
    # The user's own language (issue 18): the page behind login; the header's switch is
    # open to everyone (the login page has it) and takes only POST.
    "preferences": 302,
    "language_switch": 405,
}


def all_urls(patterns=None, namespace="") -> set[str]:
    """Every URL name, and "namespace:route" for a URL without a name."""
    urls = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            urls |= all_urls(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            urls.add(f"{namespace}{entry.name or entry.pattern}")
    return urls


def test_every_url_has_an_entry():
    urls = all_urls()
    app = {url for url in urls if url.split(":")[0] in APP_NAMESPACES}
    assert app == set(MATRIX) | set(MOVED) | PUBLIC | OWN_TESTS
    admin_urls = {url for url in urls if url.startswith("admin:")}
    assert admin_urls == set(admin_url_entries())
    # config/urls.py puts the admin's "View on site" behind the admin's scoping (the same
    # address as admin:view_on_site, tested by test_admin_view_on_site).
    assert urls - app - admin_urls == set(ACCOUNT_URLS) | {
        "admin/r/<int:content_type_id>/<path:object_id>/"
    }
    # Any other app namespace must be added to APP_NAMESPACES (and so to MATRIX).
    namespaced = {url for url in urls if ":" in url and "/" not in url.split(":")[0]}
    assert {url.split(":")[0] for url in namespaced} == APP_NAMESPACES | {"admin"}


def test_every_state_changing_url_has_a_valid_payload_and_its_effect():
    state_changing = {name for name, (_get, post) in MATRIX.items() if post is not None}
    assert state_changing == set(POSTS)


def persona_user(request, persona):
    fixture = PERSONA_FIXTURES.get(persona)
    return None if fixture is None else request.getfixturevalue(fixture)


def everything():
    """Every row of every table (digested on PostgreSQL) and every stored file."""
    return tables_digest(), media_files()


# The app's URLs


@dataclasses.dataclass
class World:
    """One of everything in Town of Alpha, each state-changing URL with its own target."""

    args: dict
    application: object
    insulation_type: object
    never_visited: object
    to_start: object
    followed: object
    visit: object
    finding: object
    doomed_finding: object
    carried_finding: object
    order: object
    doomed_order: object
    carried_order: object
    doomed_photo: object
    requests: dict
    permit: object
    delivery: object


def make_photo(visit, user, description="Wall") -> Photo:
    photo = Photo(visit=visit, description=description, uploaded_by=user)
    photo.image.save("wall.jpg", ContentFile(jpeg_upload().read()), save=False)
    photo.thumbnail.save(
        "wall-thumb.jpg", ContentFile(jpeg_upload(size=(64, 48)).read()), save=False
    )
    photo.save()
    return photo


def revoke_raw_permit(permit):
    """A revocation row with its notice written directly (the service renders a real PDF)."""
    notice = b"%PDF-1.7 notice"
    revocation = OccupancyPermitRevocation(
        permit=permit,
        reason="Issued in error",
        revoked_on=permit.granted_on,
        revoked_by=permit.issued_by,
        notice_sha256=hashlib.sha256(notice).hexdigest(),
    )
    revocation.notice_pdf.save(f"{permit.number}-revocation.pdf", ContentFile(notice), save=False)
    revocation.save()
    OccupancyPermit.objects.filter(pk=permit.pk).update(status=PermitStatus.REVOKED)
    return permit


# The draft saved on the open occupancy visit: complete, so the visit can be confirmed and
# closed (Not granted: the close renders the inspection report, no permit).
DRAFT = {
    "visit_type": "on_site",
    "internal_notes": "",
    "site_conditions": "",
    "time_used_minutes": None,
}


@pytest.fixture
def world(inspector, application_a, occupancy_type_a, framing_type_a, municipality_a):
    """See _world_rows."""
    # The closed visits of this world get their findings, photos and reports after
    # closing: history, written past the record guards (PostgreSQL triggers).
    with builders.written_as_history():
        return _world_rows(
            inspector, application_a, occupancy_type_a, framing_type_a, municipality_a
        )


def _world_rows(inspector, application_a, occupancy_type_a, framing_type_a, municipality_a):
    occupancy = make_inspection(
        application_a, occupancy_type_a, status=InspectionStatus.IN_PROGRESS
    )
    closed = make_closed_visit(occupancy, inspector, sequence=1, result="not_granted")
    closed.report_sha256 = hashlib.sha256(b"%PDF-1.7 report").hexdigest()
    closed.report_pdf.save("report.pdf", ContentFile(b"%PDF-1.7 report"))
    carried_finding = make_finding(closed, inspector, description="Carried")
    carried_order = make_order(closed, inspector)
    visit = Visit.objects.create(inspection=occupancy, sequence=2, started_by=inspector)
    finding = make_finding(visit, inspector)
    doomed_finding = make_finding(visit, inspector, description="Recorded twice")
    order = make_order(visit, inspector)
    doomed_order = make_order(visit, inspector, description="Issued twice")
    photo = make_photo(visit, inspector)
    doomed_photo = make_photo(visit, inspector, description="Blurred")
    visit_result_save_draft(
        visit=visit,
        actor=inspector,
        visit_fields=DRAFT,
        result="not_granted",
        failure_reason="deficiencies",
    )
    permit = issue_raw_permit(
        make_inspection(application_a, framing_type_a),
        inspector,
        "OCC-2026-0001",
        real_snapshot=True,
    )
    revoked = revoke_raw_permit(
        issue_raw_permit(make_inspection(application_a, framing_type_a), inspector, "OCC-2026-0002")
    )
    # Closed, with an order still open: a follow-up visit can be started on it.
    followed = make_inspection(application_a, framing_type_a, status=InspectionStatus.CLOSED)
    make_order(make_closed_visit(followed, inspector, sequence=1, result="passed"), inspector)
    never_visited = make_inspection(application_a, framing_type_a)
    to_start = make_inspection(application_a, framing_type_a)
    insulation_type = builders.inspection_type(municipality=municipality_a, name="Insulation")
    requests = _scheduling_rows(application_a, municipality_a, inspector)
    requests["framing_type"] = framing_type_a
    delivery = Delivery.objects.create(
        municipality=municipality_a,
        application=application_a,
        kind=DeliveryKind.CLOSE_DOCUMENTS,
        recipient="priya@example.com",
        subject="Inspection result",
        body="The documents are attached.",
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="connection refused",
    )
    return World(
        args={
            "permits:application_list": (),
            "permits:application_detail": ("alpha", application_a.number),
            "permits:application_delivery_resend": ("alpha", application_a.number),
            "inspections:inspection_add": ("alpha", application_a.number),
            "inspections:inspection_detail": (occupancy.code,),
            "inspections:inspection_cancel": (never_visited.code,),
            "inspections:visit_start": (to_start.code,),
            "inspections:visit_start_follow_up": (followed.code,),
            "inspections:finding_add": (occupancy.code,),
            "inspections:order_add": (occupancy.code,),
            "inspections:photos_add": (occupancy.code,),
            "inspections:visit_report": (occupancy.code, 1),
            "inspections:finding_edit": (finding.code,),
            "inspections:finding_delete": (doomed_finding.code,),
            "inspections:finding_corrected": (carried_finding.code,),
            "inspections:order_edit": (order.code,),
            "inspections:order_delete": (doomed_order.code,),
            "inspections:order_complied": (carried_order.code,),
            "inspections:photo_delete": (doomed_photo.code,),
            "inspections:photo_image": (photo.code,),
            "inspections:photo_thumbnail": (photo.code,),
            "occupancy:permit_pdf": ("alpha", permit.number),
            "occupancy:permit_revoke": ("alpha", permit.number),
            "occupancy:revocation_notice_pdf": ("alpha", revoked.number),
            "occupancy:visit_result": (occupancy.code,),
            "occupancy:visit_confirm": (occupancy.code,),
            "occupancy:visit_close": (occupancy.code,),
            "scheduling:request_inspection": ("alpha", application_a.number),
            "scheduling:dispatch": (),
            "scheduling:request_detail": (requests["to_assign"].code,),
            "scheduling:request_assign": (requests["to_assign"].code,),
            "scheduling:request_move": (requests["to_move"].code,),
            "scheduling:request_decline": (requests["to_decline"].code,),
            "scheduling:request_cancel": (requests["to_cancel"].code,),
            "scheduling:request_reorder": (requests["second"].code,),
            "scheduling:my_today": (),
            "scheduling:calendar_reset": (),
        },
        application=application_a,
        insulation_type=insulation_type,
        never_visited=never_visited,
        to_start=to_start,
        followed=followed,
        visit=visit,
        finding=finding,
        doomed_finding=doomed_finding,
        carried_finding=carried_finding,
        order=order,
        doomed_order=doomed_order,
        carried_order=carried_order,
        doomed_photo=doomed_photo,
        requests=requests,
        permit=permit,
        delivery=delivery,
    )


@dataclasses.dataclass(frozen=True)
class Post:
    """A valid payload for a state-changing URL (read just before the request: the close's
    fingerprint is of the draft as it is then) and what an allowed request must have done."""

    data: Callable[[World], dict]
    effect: Callable[[World, object], None]
    # The act is written to the application's audit trail (a draft is not: it is saved
    # again and again until the close, which is).
    audited: bool = True


def _reloaded(obj):
    return type(obj)._base_manager.get(pk=obj.pk)


def _deleted(attribute: str):
    def effect(w, user):
        obj = getattr(w, attribute)
        assert not type(obj)._base_manager.filter(pk=obj.pk).exists(), f"{attribute} remains"

    return effect


def _inspection_added(w, user):
    added = Inspection.objects.get(application=w.application, inspection_type=w.insulation_type)
    assert added.status == InspectionStatus.NOT_STARTED


def _cancelled(w, user):
    inspection = _reloaded(w.never_visited)
    assert inspection.status == InspectionStatus.CANCELLED
    assert (inspection.cancelled_reason, inspection.cancelled_by) == ("Added twice", user)


def _visit_started(w, user):
    visit = w.to_start.visits.get()
    assert (visit.status, visit.started_by) == (VisitStatus.OPEN, user)


def _follow_up_started(w, user):
    visit = w.followed.visits.get(sequence=2)
    assert (visit.status, visit.visit_type, visit.started_by) == (
        VisitStatus.OPEN,
        VisitType.FOLLOW_UP,
        user,
    )
    assert _reloaded(w.followed).status == InspectionStatus.FOLLOW_UP


def _finding_added(w, user):
    finding = Finding.objects.get(visit=w.visit, description="Smoke alarm missing, bedroom 2")
    assert finding.created_by == user


FINDING = {"discovery_date": TODAY.isoformat(), "is_remark": ""}
ORDER = {
    "order_type": "order_to_comply",
    "issued_to": "Pat Lee, contractor",
    "comply_by": (TODAY + datetime.timedelta(days=30)).isoformat(),
}


def _order_added(w, user):
    order = Order.objects.get(visit=w.visit, description="Install the smoke alarms.")
    assert (order.issued_to, order.created_by) == ("Pat Lee, contractor", user)


def _photo_added(w, user):
    photo = Photo.objects.get(visit=w.visit, description="North bedroom, no alarm")
    assert photo.uploaded_by == user
    assert photo.image.storage.exists(photo.image.name)


def _finding_edited(w, user):
    assert _reloaded(w.finding).description == "Guard 900 mm high; 1070 mm required"


def _order_edited(w, user):
    assert _reloaded(w.order).description == "Raise the guard to 1070 mm."


def _finding_corrected(w, user):
    assert _reloaded(w.carried_finding).corrected_on_visit == w.visit


def _order_complied(w, user):
    assert _reloaded(w.carried_order).complied_on_visit == w.visit


def _revoked(w, user):
    permit = _reloaded(w.permit)
    assert permit.status == PermitStatus.REVOKED
    revocation = permit.revocation
    assert (revocation.reason, revocation.revoked_on, revocation.revoked_by) == (
        "Issued for the wrong unit",
        TODAY,
        user,
    )


def _draft_saved(w, user):
    visit = _reloaded(w.visit)
    assert (visit.status, visit.result, visit.internal_notes) == (
        VisitStatus.OPEN,
        "not_granted",
        "Alarms missing upstairs",
    )


def _delivery_resent(w, user):
    resent = Delivery.objects.get(resend_of=w.delivery)
    assert (resent.recipient, resent.subject, resent.actor) == (
        "priya@example.com",
        "Inspection result",
        user,
    )


def _closed(w, user):
    visit = _reloaded(w.visit)
    assert (visit.status, visit.result, visit.closed_by) == (
        VisitStatus.CLOSED,
        "not_granted",
        user,
    )
    assert visit.report_pdf


RESULT = {
    "action": "save",
    "visit_type": "on_site",
    "internal_notes": "Alarms missing upstairs",
    "site_conditions": "",
    "time_used_minutes": "",
    "result": "not_granted",
    "failure_reason": "deficiencies",
    "template": "",
    "granted_on": "",
    "description": "",
    "portion_of_building": "",
    "expires_on": "",
}

POSTS = {
    "permits:application_delivery_resend": Post(
        lambda w: {"delivery": w.delivery.pk}, _delivery_resent
    ),
    "inspections:inspection_add": Post(
        lambda w: {"inspection_type": w.insulation_type.pk}, _inspection_added
    ),
    "inspections:inspection_cancel": Post(lambda w: {"reason": "Added twice"}, _cancelled),
    "inspections:visit_start": Post(lambda w: {}, _visit_started),
    "inspections:visit_start_follow_up": Post(lambda w: {}, _follow_up_started),
    "inspections:finding_add": Post(
        lambda w: {**FINDING, "description": "Smoke alarm missing, bedroom 2"}, _finding_added
    ),
    "inspections:order_add": Post(
        lambda w: {**ORDER, "description": "Install the smoke alarms."}, _order_added
    ),
    "inspections:photos_add": Post(
        lambda w: {"photos": [jpeg_upload()], "description": "North bedroom, no alarm"},
        _photo_added,
    ),
    "inspections:finding_edit": Post(
        lambda w: {**FINDING, "description": "Guard 900 mm high; 1070 mm required"},
        _finding_edited,
    ),
    "inspections:finding_delete": Post(lambda w: {}, _deleted("doomed_finding")),
    "inspections:finding_corrected": Post(lambda w: {"corrected": "1"}, _finding_corrected),
    "inspections:order_edit": Post(
        lambda w: {**ORDER, "description": "Raise the guard to 1070 mm."}, _order_edited
    ),
    "inspections:order_delete": Post(lambda w: {}, _deleted("doomed_order")),
    "inspections:order_complied": Post(lambda w: {"complied": "1"}, _order_complied),
    "inspections:photo_delete": Post(lambda w: {}, _deleted("doomed_photo")),
    "occupancy:permit_revoke": Post(
        lambda w: {"reason": "Issued for the wrong unit", "revoked_on": TODAY.isoformat()},
        _revoked,
    ),
    "occupancy:visit_result": Post(lambda w: RESULT, _draft_saved, audited=False),
    # What "Yes, close the inspection" posts: the fingerprint of the draft it showed.
    "occupancy:visit_close": Post(
        lambda w: {"draft_fingerprint": draft_fingerprint(_reloaded(w.visit))}, _closed
    ),
    "scheduling:request_inspection": Post(
        lambda w: {
            "inspection_type": w.requests["framing_type"].pk,
            "requested_date": _earliest_request_date(w),
            "half_day": "morning",
            "site_contact_name": "Pat Builder",
            "site_contact_phone": "905-555-0100",
            "access_notes": "",
        },
        _request_made,
    ),
    "scheduling:request_assign": Post(
        lambda w: {
            "inspector": w.requests["inspector"].pk,
            "day": w.requests["day"].isoformat(),
            "half_day": "morning",
        },
        _request_assigned,
    ),
    "scheduling:request_move": Post(
        lambda w: {
            "inspector": w.requests["inspector"].pk,
            "day": w.requests["later"].isoformat(),
            "half_day": "afternoon",
        },
        _request_moved,
    ),
    "scheduling:request_decline": Post(
        lambda w: {"reason": "No permit issued yet"}, _request_declined
    ),
    "scheduling:request_cancel": Post(
        lambda w: {"reason": "The owner asked to cancel"}, _request_cancelled
    ),
    "scheduling:request_reorder": Post(
        lambda w: {"direction": "up"}, _request_reordered, audited=False
    ),
    "scheduling:calendar_reset": Post(lambda w: {}, _calendar_made, audited=False),
}


def expected_status(name: str, method: str, persona: str) -> int:
    get_allowed, post_allowed = MATRIX[name]
    allowed = get_allowed if method == "get" else post_allowed
    if persona == "anonymous":
        return 302  # to the login page
    if allowed is None:
        return 405
    if persona in allowed:
        return 200 if method == "get" else 302  # a page, or the redirect after a POST
    if persona in OTHER_MUNICIPALITY and name not in UNSCOPED:
        return 404
    return 403


@pytest.mark.parametrize("persona", PERSONAS)
def test_app_matrix(persona, request, world):
    user = persona_user(request, persona)
    client = client_for(user)
    # Every GET before any POST: the POSTs change some of the records the GETs read.
    before = everything()
    for name in MATRIX:
        response = client.get(reverse(name, args=world.args[name]))
        expected = expected_status(name, "get", persona)
        assert response.status_code == expected, (name, "GET", persona, response.status_code)
        if persona == "anonymous":
            assert response["Location"].startswith("/accounts/login/"), name
        if name == "permits:application_list" and expected == 200:
            listed = world.application.number in response.content.decode()
            assert listed is (persona not in OTHER_MUNICIPALITY)
    assert everything() == before, "a GET changed something"

    audited = Activity.objects.filter(actor=user).count() if user else 0
    for name in MATRIX:
        path = reverse(name, args=world.args[name])
        expected = expected_status(name, "post", persona)
        post = POSTS.get(name)
        before = everything()
        response = client.post(path, post.data(world) if post else {})
        assert response.status_code == expected, (name, "POST", persona, response.status_code)
        if persona == "anonymous":
            assert response["Location"].startswith("/accounts/login/"), name
        if expected == 302 and persona != "anonymous":
            post.effect(world, user)
            # The act is in the application's audit trail, under the user's name.
            audited += post.audited
            assert Activity.objects.filter(actor=user).count() == audited, name
        else:
            assert everything() == before, (name, persona, "a refused POST changed something")


@pytest.mark.parametrize("persona", PERSONAS)
def test_public_pages(persona, request, world):
    client = client_for(persona_user(request, persona))
    token = PermitVerification.objects.create(permit=world.permit).token
    path = reverse("occupancy:verify", args=[token])
    before_rows, before_files = everything()
    response = client.get(path)
    assert response.status_code == 200
    assert world.permit.number in response.content.decode()
    after_rows, after_files = everything()
    lookups = VerificationLookup.objects.values_list("permit_id", "outcome")
    assert list(lookups) == [(world.permit.pk, "valid")]
    # The lookup is the one row a GET adds (keyed by label, or by table when digested).
    for key in (VerificationLookup._meta.label, VerificationLookup._meta.db_table):
        after_rows.pop(key, None)
        before_rows.pop(key, None)
    assert (after_rows, after_files) == (before_rows, before_files), "a GET changed something"
    before = everything()
    assert client.post(path).status_code == 405
    assert everything() == before, "a refused POST changed something"


@pytest.mark.parametrize("persona", ["anonymous", "inspector", "inspector_b"])
def test_the_addresses_before_issue_12_move_permanently(persona, request, world):
    client = client_for(persona_user(request, persona))
    code = world.args["occupancy:visit_result"][0]
    for route, name in MOVED.items():
        path = "/" + route.split(":", 1)[1].replace("<str:code>", code)
        response = client.post(path)
        if persona == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")
        else:
            assert response.status_code == 308
            assert response["Location"] == reverse(name, args=[code])


def test_account_pages_for_anonymous(db):
    client = client_for(None)
    for name, expected in ACCOUNT_URLS.items():
        args = ("MQ", "set-password") if name == "password_reset_confirm" else ()
        response = client.get(reverse(name, args=args))
        assert response.status_code == expected, (name, response.status_code)
        if expected == 302:
            assert response["Location"].startswith("/accounts/login/"), name


# The admin


@dataclasses.dataclass(frozen=True)
class AdminModel:
    """What the municipal administrator's role may do with the model's rows of its own
    municipality (view, add, change, delete), what the admin class refuses to everyone, the
    superuser included, and whether the model is the platform operator's alone."""

    municipal: frozenset = frozenset()
    nobody: frozenset = frozenset()
    operator_only: bool = False


ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})
WORKFLOW = AdminModel(municipal=VIEW, nobody=frozenset({"add", "change", "delete"}))
OPERATOR = AdminModel(operator_only=True)
# The admin world (one_of_everything): Alpha's permit type and template have issued a permit,
# so they cannot be deleted; Alpha's users are its own (change and password for its admin).
ADMIN_MODELS = {
    "auth.User": AdminModel(municipal=frozenset({"view", "add", "change"})),
    "core.Membership": AdminModel(municipal=ALL),
    "core.Activity": AdminModel(municipal=VIEW, nobody=frozenset({"add", "change", "delete"})),
    "core.Delivery": WORKFLOW,
    "exchange.ImportRun": WORKFLOW,
    "core.Municipality": AdminModel(municipal=frozenset({"view", "change"})),
    "core.RoleGroup": AdminModel(operator_only=True, nobody=frozenset({"delete"})),
    "core.SigningCertificate": AdminModel(municipal=ALL),
    "inspections.InspectionType": AdminModel(municipal=ALL),
    "inspections.DefaultInspection": AdminModel(municipal=ALL),
    "inspections.Inspection": AdminModel(municipal=VIEW, nobody=frozenset({"add"})),
    "inspections.Visit": WORKFLOW,
    "inspections.Finding": WORKFLOW,
    "inspections.Order": WORKFLOW,
    "inspections.Photo": WORKFLOW,
    "occupancy.OccupancyPermitType": AdminModel(
        municipal=frozenset({"view", "add", "change"}), nobody=frozenset({"delete"})
    ),
    "occupancy.OccupancyPermitTemplate": AdminModel(
        municipal=frozenset({"view", "add", "change"}), nobody=frozenset({"delete"})
    ),
    "occupancy.RequiredInspection": AdminModel(municipal=ALL),
    "occupancy.OccupancyPermitTemplateVersion": WORKFLOW,
    "occupancy.PermitNumberSequence": WORKFLOW,
    "occupancy.OccupancyPermit": WORKFLOW,
    "occupancy.OccupancyPermitRevocation": WORKFLOW,
    "permits.Application": AdminModel(municipal=VIEW),
    "scheduling.SchedulingSettings": AdminModel(municipal=ALL),
    "scheduling.Holiday": AdminModel(municipal=ALL),
    "scheduling.InspectorCapacity": AdminModel(municipal=ALL),
    "auth.Group": OPERATOR,
    "axes.AccessAttempt": AdminModel(operator_only=True, nobody=frozenset({"add"})),
    "axes.AccessLog": AdminModel(operator_only=True, nobody=frozenset({"add"})),
    "axes.AccessFailureLog": AdminModel(operator_only=True, nobody=frozenset({"add"})),
    "otp_totp.TOTPDevice": OPERATOR,
    "otp_static.StaticDevice": OPERATOR,
    # The job queue (core.jobs): the operator reads it; jobs are never added or edited by hand.
    "django_tasks_database.DBTaskResult": AdminModel(
        operator_only=True, nobody=frozenset({"add", "change", "delete"})
    ),
}
MODEL_PAGES = ("changelist", "add", "change", "history", "delete")
# The page's act: the change and history pages show a row to whoever may see it.
PAGE_ACT = {
    "changelist": "view",
    "add": "add",
    "change": "view",
    "history": "view",
    "delete": "delete",
}
NOT_STAFF = {"anonymous", "viewer", "clerk", "inspector", "chief", "inspector_b"}


def admin_expected(label: str, act: str, persona: str, *, alpha_row: bool) -> int:
    """The status of an admin page of model `label` for `persona`: `act` is what the page
    does; `alpha_row` says whether the URL names one of Alpha's rows."""
    spec = ADMIN_MODELS[label]
    if persona in NOT_STAFF:
        return 302  # to the login page
    if spec.operator_only and persona != "admin":
        return 403
    if alpha_row and persona == "town_admin_b" and not spec.operator_only:
        return 404
    if act in spec.nobody:
        return 403
    if persona == "admin":
        return 200
    return 200 if act in spec.municipal else 403


def test_every_registered_model_has_an_admin_entry():
    assert {model._meta.label for model in admin.site._registry} == set(ADMIN_MODELS)


def _model_url(model, page: str, obj=None) -> str:
    opts = model._meta
    args = [] if page in ("changelist", "add") else [obj.pk]
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=args)


# The project's own admin pages, and django-otp's (name: the object or page it concerns,
# the method, the payload, and the status per staff persona).
ADMIN_OBJECT_URLS = {
    "admin:occupancy_occupancypermit_revoke": ("permit", "get", None, (403, 404, 200)),
    "admin:core_municipality_export_blds": ("municipality", "get", None, (200, 404, 200)),
    "admin:auth_user_password_change": ("user", "get", None, (200, 404, 200)),
    "admin:permits_application_import": (None, "get", None, (403, 403, 200)),
    # POST only (405), once the run is found: Alpha's administrator may see it but not import
    # (403). Their refused POSTs: tests/exchange/test_import_runs.py.
    "admin:exchange_importrun_requeue": ("import_run", "get", None, (403, 404, 405)),
    "admin:exchange_importrun_import": ("import_run", "get", None, (403, 404, 405)),
    # Preview is POST only; a body without the permit's variables is refused (400), without
    # rendering; another municipality's permit type is a 404.
    "admin:occupancy_occupancypermittemplate_preview": (
        None,
        "post",
        lambda w: {"body": "Hello", "permit_type": w.permit_type.pk},
        (400, 404, 400),
    ),
    "admin:otp_totp_totpdevice_config": ("totp_device", "get", None, (403, 403, 200)),
    "admin:otp_totp_totpdevice_qrcode": ("totp_device", "get", None, (403, 403, 200)),
}
# Refused POSTs to the project's object pages, with a payload that would change something.
ADMIN_OBJECT_POSTS = {
    "admin:occupancy_occupancypermit_revoke": lambda w: {
        "reason": "Issued in error",
        "revoked_on": TODAY.isoformat(),
    },
    "admin:auth_user_password_change": lambda w: {
        "usable_password": "true",
        "password1": "another-long-password-456",
        "password2": "another-long-password-456",
    },
    "admin:permits_application_import": lambda w: {"municipality": w.alpha.pk},
}
STAFF_COLUMN = {"town_admin": 0, "town_admin_b": 1, "admin": 2}

# The admin site's own pages: the status per persona kind (not staff, Alpha's municipal
# administrator, Beta's, the superuser).
ADMIN_SITE_URLS = {
    "admin:index": (302, 200, 200, 200),
    "admin:app_list": None,  # per app: test_admin_site_pages
    "admin:autocomplete": None,  # lists only the user's municipalities: test_admin_site_pages
    "admin:view_on_site": None,  # another municipality's row: test_admin_view_on_site
    "admin:jsi18n": (302, 200, 200, 200),
    "admin:login": (200, 302, 302, 302),
    "admin:logout": (302, 405, 405, 405),  # POST only
    "admin:password_change": (302, 200, 200, 200),
    "admin:password_change_done": (302, 200, 200, 200),
    # Unnamed: a row's short address redirects to its change page (whatever the key: the
    # change page does the checks); any other address under /admin/ is a 404 for staff.
    "admin:<path:object_id>/": None,  # test_admin_site_pages
    "admin:(?P<url>.*)$": None,  # test_admin_site_pages
}


def admin_url_entries() -> set[str]:
    names = set(ADMIN_OBJECT_URLS) | set(ADMIN_SITE_URLS)
    for model in admin.site._registry:
        opts = model._meta
        names |= {f"admin:{opts.app_label}_{opts.model_name}_{page}" for page in MODEL_PAGES}
    return names


@dataclasses.dataclass
class AdminWorld:
    alpha: object
    beta: object
    permit: object
    permit_type: object
    user: object
    totp_device: object
    import_run: object

    @property
    def municipality(self):
        return self.alpha


@pytest.fixture
def admin_world(municipality_a, municipality_b, inspector, inspector_b):
    """See _admin_world_rows."""
    # The closed visits of this world get their findings, photos and reports after
    # closing: history, written past the record guards (PostgreSQL triggers).
    with builders.written_as_history():
        return _admin_world_rows(municipality_a, municipality_b, inspector, inspector_b)


def _admin_world_rows(municipality_a, municipality_b, inspector, inspector_b):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tasks_db.models import DBTaskResult

    one_of_everything(municipality_a, inspector, "A")
    one_of_everything(municipality_b, inspector_b, "B")
    login = {"username": "inspector", "ip_address": "192.0.2.1", "user_agent": "Firefox"}
    AccessAttempt.objects.create(**login, failures_since_start=1)
    AccessLog.objects.create(**login)
    AccessFailureLog.objects.create(**login)
    # Not a persona's: a device makes its owner give a code after the password.
    owner = make_user("phoneowner", municipality_a, Role.CHIEF_BUILDING_OFFICIAL)
    totp_device = TOTPDevice.objects.create(user=owner, name="Phone")
    StaticDevice.objects.create(user=owner, name="Recovery codes")
    DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="core.tasks.example",
        backend_name="default",
        run_after=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        exception_class_path="",
        traceback="",
    )
    permit = OccupancyPermit.objects.get(municipality=municipality_a)
    return AdminWorld(
        alpha=municipality_a,
        beta=municipality_b,
        permit=permit,
        permit_type=permit.permit_type,
        user=inspector,
        totp_device=totp_device,
        import_run=ImportRun.objects.get(municipality=municipality_a),
    )


def alpha_row(model, world):
    if ADMIN_MODELS[model._meta.label].operator_only:
        return model._default_manager.order_by("pk").first()
    rows_of_alpha = rows_of(model, world.alpha)
    if model is User:
        rows_of_alpha = rows_of_alpha.filter(pk=world.user.pk)
    return rows_of_alpha.order_by("pk").first()


def change_payload(obj) -> dict:
    """The row's own values with every text changed: what would be saved if the change were
    accepted."""
    data = {}
    for name, value in model_to_dict(obj).items():
        if isinstance(value, str):
            data[name] = f"{value} (changed)"
        elif isinstance(value, bool | int | datetime.date):
            data[name] = value
    return data


def _redirected_to_login(response) -> bool:
    return response["Location"].startswith(("/accounts/login/", "/admin/login/"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_matrix(persona, request, admin_world):
    client = client_for(persona_user(request, persona))
    world = admin_world
    before = everything()
    for model in admin.site._registry:
        label = model._meta.label
        obj = alpha_row(model, world)
        assert obj is not None, label
        for page in MODEL_PAGES:
            url = _model_url(model, page, obj)
            expected = admin_expected(
                label, PAGE_ACT[page], persona, alpha_row=page not in ("changelist", "add")
            )
            response = client.get(url)
            assert response.status_code == expected, (url, persona, response.status_code)
            if expected == 302:
                assert _redirected_to_login(response), url
            if page == "changelist" and expected == 200:
                shown = set(response.context["cl"].result_list)
                if persona == "town_admin_b":
                    assert not shown & set(rows_of(model, world.alpha)), label
                else:
                    assert obj in shown, label
    assert everything() == before, "an admin GET changed something"

    # Refused changes and deletions change nothing.
    for model in admin.site._registry:
        label = model._meta.label
        obj = alpha_row(model, world)
        for page, act, data in (
            ("change", "change", change_payload(obj)),
            ("delete", "delete", {"post": "yes"}),
        ):
            expected = admin_expected(label, act, persona, alpha_row=True)
            if expected == 200:
                continue  # allowed: tests/core/test_admin_scoping.py and the admin tests
            url = _model_url(model, page, obj)
            before = everything()
            response = client.post(url, data)
            assert response.status_code == expected, (url, "POST", persona, response.status_code)
            assert everything() == before, (url, persona, "a refused POST changed something")


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_project_pages(persona, request, admin_world):
    client = client_for(persona_user(request, persona))
    world = admin_world
    for name, (target, method, payload, statuses) in ADMIN_OBJECT_URLS.items():
        args = [] if target is None else [getattr(world, target).pk]
        url = reverse(name, args=args)
        expected = 302 if persona in NOT_STAFF else statuses[STAFF_COLUMN[persona]]
        before = everything()
        response = getattr(client, method)(url, payload(world) if payload else {})
        assert response.status_code == expected, (name, persona, response.status_code)
        if expected == 302:
            assert _redirected_to_login(response), name
        assert everything() == before, name
        post = ADMIN_OBJECT_POSTS.get(name)
        if post is not None and expected != 200:
            response = client.post(url, post(world))
            assert response.status_code == expected, (name, "POST", persona)
            assert everything() == before, (name, persona, "a refused POST changed something")


def test_the_superuser_revokes_in_the_admin(admin_world, admin_user, inspector):
    application = rows_of(admin_model("application"), admin_world.alpha).first()
    inspection = make_inspection(application, admin_world.permit.visit.inspection.inspection_type)
    permit = issue_raw_permit(inspection, inspector, "A-OCC-2026-0002", real_snapshot=True)
    url = reverse("admin:occupancy_occupancypermit_revoke", args=[permit.pk])
    response = client_for(admin_user).post(
        url, {"reason": "Issued in error", "revoked_on": TODAY.isoformat()}
    )
    assert response.status_code == 302
    permit.refresh_from_db()
    assert permit.status == PermitStatus.REVOKED
    assert (permit.revocation.reason, permit.revocation.revoked_by) == (
        "Issued in error",
        admin_user,
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_site_pages(persona, request, admin_world):
    client = client_for(persona_user(request, persona))
    world = admin_world
    column = 0 if persona in NOT_STAFF else 1 + STAFF_COLUMN[persona]
    for name, statuses in ADMIN_SITE_URLS.items():
        if statuses is None:
            continue
        response = client.get(reverse(name))
        assert response.status_code == statuses[column], (name, persona, response.status_code)

    # An app's page lists what the user may see of it; the operator's apps are a 404.
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        models = [m for m in admin.site._registry if m._meta.app_label == app_label]
        operator_only = all(ADMIN_MODELS[m._meta.label].operator_only for m in models)
        expected = (
            302 if persona in NOT_STAFF else 404 if operator_only and persona != "admin" else 200
        )
        response = client.get(reverse("admin:app_list", args=[app_label]))
        assert response.status_code == expected, (app_label, persona, response.status_code)

    # A row's short address and an unknown address.
    application = rows_of(admin_model("application"), world.alpha).first()
    short = reverse("admin:permits_application_changelist") + f"{application.pk}/"
    response = client.get(short)
    assert response.status_code == 302
    if persona in NOT_STAFF:
        assert _redirected_to_login(response)
    else:
        change = reverse("admin:permits_application_change", args=[application.pk])
        assert response["Location"] == change
    response = client.get("/admin/no/such/page/")
    if persona in NOT_STAFF:
        assert response.status_code == 302 and _redirected_to_login(response)
    else:
        assert response.status_code == 404

    # The autocomplete of a membership's user offers only the user's municipalities' people.
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "core", "model_name": "membership", "field_name": "user"},
    )
    if persona in NOT_STAFF:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        offered = {int(result["id"]) for result in response.json()["results"]}
        alpha_people = set(
            User.objects.filter(memberships__municipality=world.alpha).values_list("pk", flat=True)
        )
        if persona == "town_admin_b":
            assert offered and not offered & alpha_people
        else:
            assert world.user.pk in offered


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_view_on_site(persona, request, admin_world):
    """ "View on site" of an Alpha row: another municipality's is a 404, as at every other
    object URL of the admin (it would otherwise say where the row is: its municipality and
    number, for any primary key)."""
    client = client_for(persona_user(request, persona))
    for model_name in ("application", "inspection"):
        obj = rows_of(admin_model(model_name), admin_world.alpha).first()
        content_type = ContentType.objects.get_for_model(obj)
        response = client.get(reverse("admin:view_on_site", args=[content_type.pk, obj.pk]))
        if persona in NOT_STAFF:
            assert response.status_code == 302 and _redirected_to_login(response)
        elif persona == "town_admin_b":
            assert response.status_code == 404, (model_name, response["Location"])
        else:
            assert response.status_code == 302
            assert response["Location"].endswith(obj.get_absolute_url())


def admin_model(model_name):
    return next(m for m in admin.site._registry if m._meta.model_name == model_name)
