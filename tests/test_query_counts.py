"""Every page makes as many SQL queries with one row as with many (no N+1).

Already covered elsewhere, not repeated here: the unfiltered application list
(tests/permits/test_application_views.py), the Work view with many inspections (same file)
and the inspection view with an open visit full of findings, orders and photos
(tests/inspections/test_visit_views.py).
"""

import datetime
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import Activity, Delivery, DeliveryStatus
from demo import builders
from inspections.models import Finding, Photo, Visit
from occupancy.models import GrantDraft, OccupancyPermit, OccupancyPermitType
from tests.conftest import client_for, make_application
from tests.factories import (
    jpeg_upload,
    make_closed_visit,
    make_delivery,
    make_finding,
    make_inspection,
    make_order,
)
from tests.occupancy.conftest import make_template

TODAY = timezone.localdate()
MANY = 30


def queries(client, path) -> int:
    """The number of queries one GET of `path` makes, file responses read to the end."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(context.captured_queries)


# Served only while their bytes have the recorded SHA-256 (core.files).
FAKE_PDF = b"%PDF-1.7\n%%EOF\n"


def file_report(visit, sequence) -> None:
    visit.report_sha256 = hashlib.sha256(FAKE_PDF).hexdigest()
    visit.report_pdf.save(f"report-{sequence}.pdf", ContentFile(FAKE_PDF))


def make_permit(visit, template, user, number) -> OccupancyPermit:
    application = visit.inspection.application
    permit = OccupancyPermit(
        municipality_id=application.municipality_id,
        application=application,
        visit=visit,
        permit_type=template.permit_type,
        template_version=template.versions.get(),
        number=number,
        result="granted_full",
        granted_on=TODAY,
        description="Single detached dwelling",
        snapshot={"permit": {"number": number}},
        pdf_sha256=hashlib.sha256(FAKE_PDF).hexdigest(),
        issued_by=user,
    )
    permit.pdf.save(f"{number}.pdf", ContentFile(FAKE_PDF), save=False)
    permit.save()
    return permit


def granted_visit(inspection, user, sequence) -> Visit:
    visit = make_closed_visit(inspection, user, sequence=sequence, result="granted_full")
    with builders.written_as_history():  # its report, filed after the visit closed
        file_report(visit, sequence)
    return visit


def test_search_results_query_count_does_not_grow_with_matches(inspector, municipality_a):
    client = client_for(inspector)
    path = reverse("permits:application_list") + "?q=Maple+Crescent"
    make_application(municipality_a, number="B-1")
    one = queries(client, path)
    for i in range(2, MANY + 2):
        make_application(municipality_a, number=f"B-{i}", owner_name=f"Owner {i}")
    assert queries(client, path) == one


def test_work_view_query_count_does_not_grow_with_permits_and_history(
    inspector, application_a, occupancy_type_a, permit_template
):
    client = client_for(inspector)
    path = application_a.get_absolute_url()
    inspection = make_inspection(application_a, occupancy_type_a)
    make_permit(granted_visit(inspection, inspector, 1), permit_template, inspector, "OCC-1")
    Activity.objects.create(application=application_a, actor=inspector, verb="x", summary="x")
    one = queries(client, path)
    for i in range(2, 8):
        visit = granted_visit(make_inspection(application_a, occupancy_type_a), inspector, 1)
        make_permit(visit, permit_template, inspector, f"OCC-{i}")
    for _ in range(MANY):
        Activity.objects.create(application=application_a, actor=inspector, verb="x", summary="x")
    assert queries(client, path) == one


def test_work_view_query_count_does_not_grow_with_queued_deliveries(inspector, application_a):
    """Each queued e-mail is shown with whether no job will send it (Resend offered): from
    one query for all the queued ones, not one query per e-mail."""
    client = client_for(inspector)
    path = application_a.get_absolute_url()

    def queued(minutes_ago):
        delivery = make_delivery(application_a)
        moment = timezone.now() - datetime.timedelta(minutes=minutes_ago)
        Delivery.objects.filter(pk=delivery.pk).update(queued_at=moment, last_queued_at=moment)

    queued(60)  # its job is gone: stranded
    one = queries(client, path)
    for minutes in range(MANY):
        queued(minutes)
    response = client.get(path)
    assert queries(client, path) == one
    shown = {d.pk: d.is_stranded for d in response.context["deliveries"]}
    assert len(shown) == MANY + 1 and sum(shown.values()) == MANY + 1 - 15


def test_work_view_asks_whether_mail_is_stranded_only_when_some_is_queued(inspector, application_a):
    """Only a queued e-mail can be stranded: a History of sent mail lists it in one plain
    query, without the stranded rule's correlated EXISTS (issue 16: building that query cost
    about a fifth of a Work view); queued ones add one query, for all of them."""
    client = client_for(inspector)
    path = application_a.get_absolute_url()

    for _ in range(3):
        make_delivery(application_a, status=DeliveryStatus.SENT, sent_at=timezone.now())
    with CaptureQueriesContext(connection) as sent_only:
        client.get(path)
    jobs = DBTaskResult._meta.db_table
    assert not any(jobs in q["sql"] for q in sent_only.captured_queries)
    for _ in range(2):
        make_delivery(application_a)  # just queued: its job may run any moment, not stranded
    with CaptureQueriesContext(connection) as two_queued:
        response = client.get(path)
    assert len(two_queued.captured_queries) == len(sent_only.captured_queries) + 1
    assert sum(jobs in q["sql"] for q in two_queued.captured_queries) == 1
    assert [d.is_stranded for d in response.context["deliveries"]] == [False] * 5


def test_inspection_view_without_open_visit_query_count_does_not_grow_with_history(
    inspector, occupancy, permit_template
):
    client = client_for(inspector)
    path = occupancy.get_absolute_url()
    make_permit(granted_visit(occupancy, inspector, 1), permit_template, inspector, "OCC-1")
    one = queries(client, path)
    for sequence in range(2, MANY + 2):
        visit = granted_visit(occupancy, inspector, sequence)
        make_finding(visit, inspector)
        make_order(visit, inspector)
        make_permit(visit, permit_template, inspector, f"OCC-{sequence}")
    assert queries(client, path) == one


def long_history(application, inspection, inspector, template, *, visits, findings, permits):
    """An inspection with `visits` closed visits (`findings` deficiencies and remarks spread
    over them, an order on every fourth visit and on the last) and an open one with a
    finding and an order; `permits` occupancy permits on other inspections of the
    application; 200 audit entries. The deficiencies stay open: the Work view lists them."""
    recorded = []
    for sequence in range(1, visits + 1):
        visit = make_closed_visit(inspection, inspector, sequence=sequence, result="failed")
        with builders.written_as_history():  # its report, filed after the visit closed
            file_report(visit, sequence)
        share = findings * sequence // visits - findings * (sequence - 1) // visits
        for number in range(share):
            recorded.append(make_finding(visit, inspector, is_remark=number % 5 == 4))
        if sequence % 4 == 0 or sequence == visits:
            make_order(visit, inspector, findings=recorded[-1:])
    visit = Visit.objects.create(inspection=inspection, sequence=visits + 1, started_by=inspector)
    make_order(visit, inspector, findings=[make_finding(visit, inspector)])
    for number in range(permits):
        other_inspection = make_inspection(application, inspection.inspection_type)
        other = granted_visit(other_inspection, inspector, 1)
        make_permit(other, template, inspector, f"OCC-{inspection.pk}-{number}")
    Activity.objects.bulk_create(
        Activity(application=application, actor=inspector, verb="x", summary=f"Change {number}")
        for number in range(200)
    )


def test_work_view_and_inspection_view_query_counts_do_not_grow_with_a_long_history(
    inspector, municipality_a, occupancy_type_a, permit_template
):
    """40 visits, 100 findings, 10 permits, 200 audit entries make as many queries as one of
    each: with an open visit on the inspection and matters still open on the application."""
    short_application = make_application(municipality_a, number="B-SHORT")
    short = make_inspection(short_application, occupancy_type_a)
    long_history(
        short_application, short, inspector, permit_template, visits=1, findings=1, permits=1
    )
    long_application = make_application(municipality_a, number="B-LONG")
    long = make_inspection(long_application, occupancy_type_a)
    long_history(
        long_application, long, inspector, permit_template, visits=40, findings=100, permits=10
    )
    assert long.visits.count() == 41
    assert Finding.objects.filter(visit__inspection=long).count() == 101
    client = client_for(inspector)
    assert queries(client, long_application.get_absolute_url()) == queries(
        client, short_application.get_absolute_url()
    )
    assert queries(client, long.get_absolute_url()) == queries(client, short.get_absolute_url())
    every_visit = long.get_absolute_url() + "?visits=all"
    assert queries(client, every_visit) == queries(client, short.get_absolute_url())


@pytest.mark.postgres
def test_pages_with_forms_read_their_choices_without_a_server_side_cursor(
    inspector, occupancy, open_visit
):
    """A choice list is a few dozen rows: one query, not DECLARE, FETCH and CLOSE
    (DISABLE_SERVER_SIDE_CURSORS in config/settings.py)."""
    make_finding(open_visit, inspector)
    client = client_for(inspector)
    for path in (occupancy.get_absolute_url(), occupancy.application.get_absolute_url()):
        with CaptureQueriesContext(connection) as context:
            assert client.get(path).status_code == 200
        assert [q["sql"] for q in context.captured_queries if "CURSOR" in q["sql"]] == []


def test_confirmation_page_query_count_does_not_grow_with_outstanding_matters(
    inspector, occupancy, open_visit, permit_template
):
    client = client_for(inspector)
    path = reverse("occupancy:visit_confirm", args=[occupancy.code])
    Visit.objects.filter(pk=open_visit.pk).update(result="granted_outstanding")
    GrantDraft.objects.create(
        visit=open_visit,
        template=permit_template,
        granted_on=TODAY,
        description="Single detached dwelling",
    )
    make_finding(open_visit, inspector)
    make_order(open_visit, inspector)
    one = queries(client, path)
    for _ in range(MANY):
        make_finding(open_visit, inspector)
        make_order(open_visit, inspector)
    assert queries(client, path) == one


def test_finding_and_order_edit_pages_query_count_does_not_grow_with_findings(
    inspector, open_visit
):
    client = client_for(inspector)
    finding = make_finding(open_visit, inspector)
    order = make_order(open_visit, inspector)
    order.findings.add(finding)
    finding_path = reverse("inspections:finding_edit", args=[finding.code])
    order_path = reverse("inspections:order_edit", args=[order.code])
    one = (queries(client, finding_path), queries(client, order_path))
    for _ in range(MANY):  # every one offered on the order form, every one linked
        order.findings.add(make_finding(open_visit, inspector))
    assert (queries(client, finding_path), queries(client, order_path)) == one


def test_photo_query_count_does_not_grow_with_photos(inspector, occupancy, open_visit):
    client = client_for(inspector)
    client.post(
        reverse("inspections:photos_add", args=[occupancy.code]),
        {"photos": [jpeg_upload()], "description": "North wall"},
    )
    photo = Photo.objects.get()
    paths = [
        reverse("inspections:photo_thumbnail", args=[photo.code]),
        reverse("inspections:photo_image", args=[photo.code]),
    ]
    one = [queries(client, path) for path in paths]
    for _ in range(MANY):
        Photo.objects.create(
            visit=open_visit,
            image=photo.image.name,
            thumbnail=photo.thumbnail.name,
            description="copy",
            uploaded_by=inspector,
        )
    assert [queries(client, path) for path in paths] == one


def test_permit_pdf_query_count_does_not_grow_with_permits(
    inspector, application_a, occupancy, occupancy_type_a, permit_template
):
    client = client_for(inspector)
    permit = make_permit(granted_visit(occupancy, inspector, 1), permit_template, inspector, "A")
    path = reverse("occupancy:permit_pdf", args=[application_a.municipality.slug, permit.number])
    one = queries(client, path)
    for i in range(MANY):
        visit = granted_visit(make_inspection(application_a, occupancy_type_a), inspector, 1)
        make_permit(visit, permit_template, inspector, f"B-{i}")
    assert queries(client, path) == one


def test_report_query_count_does_not_grow_with_visits(inspector, occupancy):
    client = client_for(inspector)
    granted_visit(occupancy, inspector, 1)
    path = reverse("inspections:visit_report", args=[occupancy.code, 1])
    one = queries(client, path)
    for sequence in range(2, MANY + 2):
        granted_visit(occupancy, inspector, sequence)
    assert queries(client, path) == one


@pytest.fixture
def permit_template(municipality_a):
    permit_type = OccupancyPermitType.objects.create(municipality=municipality_a, name="General")
    return make_template(municipality_a, permit_type, "General occupancy permit", "general.html")


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def open_visit(occupancy, inspector):
    return Visit.objects.create(inspection=occupancy, sequence=1, started_by=inspector)
