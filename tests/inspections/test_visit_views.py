import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from inspections.models import (
    Finding,
    Inspection,
    InspectionStatus,
    Order,
    Photo,
    Visit,
    VisitStatus,
)
from tests.conftest import client_for
from tests.factories import (
    jpeg_upload,
    make_closed_visit,
    make_finding,
    make_inspection,
    make_order,
)


@pytest.fixture
def occupancy(application_a, occupancy_type_a):
    return make_inspection(application_a, occupancy_type_a)


@pytest.fixture
def open_visit(occupancy, inspector):
    return Visit.objects.create(inspection=occupancy, sequence=1, started_by=inspector)


def url(name, *args):
    return reverse(f"inspections:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_clerk_adds_an_inspection_from_the_work_view(clerk, application_a, occupancy_type_a):
    response = client_for(clerk).post(
        url("inspection_add", "alpha", application_a.number),
        {"inspection_type": occupancy_type_a.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == application_a.get_absolute_url() + "#inspections"
    assert "Occupancy inspection added." in messages_of(response)
    inspection = Inspection.objects.get(application=application_a)
    assert inspection.inspection_type == occupancy_type_a
    assert inspection.status == InspectionStatus.NOT_STARTED


def test_inspection_type_of_another_municipality_cannot_be_added(
    clerk, application_a, municipality_b
):
    from inspections.models import InspectionType

    foreign = InspectionType.objects.create(municipality=municipality_b, name="Occupancy")
    response = client_for(clerk).post(
        url("inspection_add", "alpha", application_a.number),
        {"inspection_type": foreign.pk},
        follow=True,
    )
    assert "Choose an inspection type to add." in messages_of(response)
    assert not Inspection.objects.exists()


def test_viewer_cannot_add_an_inspection(viewer, application_a, occupancy_type_a):
    response = client_for(viewer).post(
        url("inspection_add", "alpha", application_a.number),
        {"inspection_type": occupancy_type_a.pk},
    )
    assert response.status_code == 403
    assert not Inspection.objects.exists()


def test_inspector_starts_a_visit(inspector, occupancy):
    response = client_for(inspector).post(url("visit_start", occupancy.code), follow=True)
    assert "Visit 1 started." in messages_of(response)
    visit = Visit.objects.get(inspection=occupancy)
    assert (visit.sequence, visit.status, visit.started_by) == (1, VisitStatus.OPEN, inspector)
    occupancy.refresh_from_db()
    assert occupancy.status == InspectionStatus.IN_PROGRESS
    assert occupancy.assigned_inspector == inspector
    html = response.content.decode()
    for section in [
        "Deficiencies &amp; remarks",
        "Orders",
        "Photos",
        "Inspection &amp; visit result",
        "All visits",
    ]:
        assert section in html
    assert "Start new visit" not in html


def test_start_new_visit_is_shown_to_inspectors_only(inspector, clerk, occupancy):
    assert (
        "Start new visit"
        in client_for(inspector).get(occupancy.get_absolute_url()).content.decode()
    )
    assert (
        "Start new visit"
        not in client_for(clerk).get(occupancy.get_absolute_url()).content.decode()
    )


def test_clerk_cannot_start_a_visit(clerk, occupancy):
    assert client_for(clerk).post(url("visit_start", occupancy.code)).status_code == 403
    assert not Visit.objects.exists()


def test_second_start_while_a_visit_is_open_is_refused_with_a_message(
    inspector, occupancy, open_visit
):
    response = client_for(inspector).post(url("visit_start", occupancy.code), follow=True)
    assert "Visit 1 is already open (started by Inspector); continue it below." in messages_of(
        response
    )
    assert Visit.objects.count() == 1


def test_a_closed_inspection_gets_no_new_visit(inspector, occupancy):
    occupancy.status = InspectionStatus.CLOSED
    occupancy.save()
    html = client_for(inspector).get(occupancy.get_absolute_url()).content.decode()
    assert "Start new visit" not in html
    response = client_for(inspector).post(url("visit_start", occupancy.code), follow=True)
    assert "This inspection is closed: no new visit can be started." in messages_of(response)


def test_visit_numbers_follow_the_last_visit(inspector, occupancy):
    make_closed_visit(occupancy, inspector, sequence=1)
    client_for(inspector).post(url("visit_start", occupancy.code))
    assert Visit.objects.get(status=VisitStatus.OPEN).sequence == 2


def test_inspector_adds_a_deficiency_and_a_remark(inspector, occupancy, open_visit):
    client = client_for(inspector)
    today = timezone.localdate().isoformat()
    client.post(
        url("finding_add", occupancy.code),
        {"discovery_date": today, "description": "Smoke alarm missing in hallway"},
    )
    response = client.post(
        url("finding_add", occupancy.code),
        {"discovery_date": today, "description": "Touch-up paint", "is_remark": "on"},
        follow=True,
    )
    assert "Remark added." in messages_of(response)
    rows = list(Finding.objects.values_list("description", "is_remark", "visit"))
    assert rows == [
        ("Smoke alarm missing in hallway", False, open_visit.pk),
        ("Touch-up paint", True, open_visit.pk),
    ]
    html = response.content.decode()
    assert "Smoke alarm missing in hallway" in html and "Touch-up paint" in html


def test_invalid_finding_gets_messages_at_the_fields_and_keeps_what_was_saved(
    inspector, occupancy, open_visit
):
    make_finding(open_visit, inspector, description="Saved earlier")
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client_for(inspector).post(
        url("finding_add", occupancy.code), {"discovery_date": future, "description": "   "}
    )
    assert response.status_code == 400
    form = response.context["finding_form"]
    assert form.errors == {
        "discovery_date": ["The discovery date cannot be in the future."],
        "description": ["This field is required."],
    }
    html = response.content.decode()
    assert "The discovery date cannot be in the future." in html
    assert "Saved earlier" in html
    assert list(Finding.objects.values_list("description", flat=True)) == ["Saved earlier"]


def test_finding_is_edited_and_deleted_while_the_visit_is_open(inspector, open_visit):
    finding = make_finding(open_visit, inspector)
    client = client_for(inspector)
    assert client.get(url("finding_edit", finding.code)).status_code == 200
    client.post(
        url("finding_edit", finding.code),
        {"discovery_date": "2026-03-01", "description": "Now only a remark", "is_remark": "on"},
    )
    finding.refresh_from_db()
    assert (finding.description, finding.is_remark) == ("Now only a remark", True)
    response = client.post(url("finding_delete", finding.code), follow=True)
    assert "Remark deleted." in messages_of(response)
    assert not Finding.objects.exists()


def test_findings_of_a_closed_visit_are_frozen(inspector, occupancy):
    closed = make_closed_visit(occupancy, inspector)
    finding = make_finding(closed, inspector, description="Frozen")
    client = client_for(inspector)
    response = client.post(url("finding_delete", finding.code), follow=True)
    assert messages_of(response) == [
        "Visit 1 was already closed by Inspector on "
        f"{timezone.localtime(closed.closed_at):%Y-%m-%d at %H:%M}; nothing was changed."
    ]
    client.post(
        url("finding_edit", finding.code), {"discovery_date": "2026-03-01", "description": "x"}
    )
    finding.refresh_from_db()
    assert finding.description == "Frozen"


def test_open_deficiencies_carry_over_and_are_marked_corrected(inspector, occupancy):
    first = make_closed_visit(occupancy, inspector, sequence=1)
    deficiency = make_finding(first, inspector, description="Guard too low on deck")
    make_finding(first, inspector, description="Remark from visit one", is_remark=True)
    second = Visit.objects.create(inspection=occupancy, sequence=2, started_by=inspector)
    client = client_for(inspector)
    response = client.get(occupancy.get_absolute_url())
    assert [f.description for f in response.context["carried_findings"]] == [
        "Guard too low on deck"
    ]
    html = response.content.decode()
    assert "Open deficiencies from earlier visits" in html
    assert "Guard too low on deck" in html
    response = client.post(
        url("finding_corrected", deficiency.code), {"corrected": "1"}, follow=True
    )
    assert "Deficiency marked corrected." in messages_of(response)
    deficiency.refresh_from_db()
    assert deficiency.corrected_on_visit == second
    client.post(url("finding_corrected", deficiency.code), {"corrected": "0"})
    deficiency.refresh_from_db()
    assert deficiency.corrected_on_visit is None


def test_inspector_adds_edits_and_deletes_an_order_linked_to_a_finding(
    inspector, occupancy, open_visit
):
    finding = make_finding(open_visit, inspector)
    client = client_for(inspector)
    comply_by = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    response = client.post(
        url("order_add", occupancy.code),
        {
            "order_type": "order_to_comply",
            "issued_to": "Jordan Smith, owner",
            "description": "Install a handrail",
            "comply_by": comply_by,
            "findings": [finding.pk],
        },
        follow=True,
    )
    assert "Order to Comply added." in messages_of(response)
    order = Order.objects.get()
    assert list(order.findings.all()) == [finding]
    assert order.comply_by.isoformat() == comply_by
    client.post(
        url("order_edit", order.code),
        {
            "order_type": "stop_work",
            "issued_to": "Ace Builders",
            "description": "Stop all work",
        },
    )
    order.refresh_from_db()
    assert (order.order_type, order.issued_to, list(order.findings.all())) == (
        "stop_work",
        "Ace Builders",
        [],
    )
    client.post(url("order_delete", order.code))
    assert not Order.objects.exists()


def test_order_with_a_past_comply_by_date_is_refused_at_the_field(inspector, occupancy, open_visit):
    response = client_for(inspector).post(
        url("order_add", occupancy.code),
        {
            "order_type": "order_to_comply",
            "issued_to": "Owner",
            "description": "Fix",
            "comply_by": "2020-01-01",
        },
    )
    assert response.status_code == 400
    assert response.context["order_form"].errors == {
        "comply_by": ["The comply-by date cannot be in the past."]
    }
    assert not Order.objects.exists()


def test_outstanding_order_from_an_earlier_visit_is_marked_complied(inspector, occupancy):
    first = make_closed_visit(occupancy, inspector, sequence=1)
    order = make_order(first, inspector)
    second = Visit.objects.create(inspection=occupancy, sequence=2, started_by=inspector)
    client_for(inspector).post(url("order_complied", order.code), {"complied": "1"})
    order.refresh_from_db()
    assert order.complied_on_visit == second


def test_photo_upload_is_stored_reencoded_and_served_to_the_municipality_only(
    inspector, inspector_b, viewer, occupancy, open_visit
):
    finding = make_finding(open_visit, inspector)
    response = client_for(inspector).post(
        url("photos_add", occupancy.code),
        {
            "photos": [jpeg_upload("a.jpg"), jpeg_upload("b.jpg", size=(300, 600))],
            "description": "North wall",
            "finding": finding.pk,
        },
        follow=True,
    )
    assert "2 photos added." in messages_of(response)
    photos = list(Photo.objects.order_by("id"))
    assert [(p.description, p.finding, p.width, p.height) for p in photos] == [
        ("North wall", finding, 640, 480),
        ("North wall", finding, 300, 600),
    ]
    thumb_url = url("photo_thumbnail", photos[0].code)
    assert thumb_url in response.content.decode()
    served = client_for(viewer).get(thumb_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    image = Image.open(__import__("io").BytesIO(b"".join(served.streaming_content)))
    assert image.format == "JPEG" and max(image.size) <= 400
    assert client_for(inspector_b).get(thumb_url).status_code == 404


def test_upload_that_is_not_an_image_is_refused_at_the_field(inspector, occupancy, open_visit):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_finding(open_visit, inspector, description="Kept")
    fake = SimpleUploadedFile("report.jpg", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")
    response = client_for(inspector).post(
        url("photos_add", occupancy.code), {"photos": [fake], "description": "Wall"}
    )
    assert response.status_code == 400
    assert response.context["photo_form"].errors == {
        "photos": ["report.jpg: This file is not a JPEG, PNG, WebP or HEIC image."]
    }
    assert "This file is not a JPEG, PNG, WebP or HEIC image." in response.content.decode()
    assert not Photo.objects.exists()
    assert list(Finding.objects.values_list("description", flat=True)) == ["Kept"]


def test_photo_input_opens_the_camera_on_phones(inspector, occupancy, open_visit):
    html = client_for(inspector).get(occupancy.get_absolute_url()).content.decode()
    assert 'accept="image/*"' in html
    assert 'capture="environment"' in html
    assert "multiple" in html


def test_photo_is_deleted_with_its_files(inspector, occupancy, open_visit, settings):
    client = client_for(inspector)
    client.post(
        url("photos_add", occupancy.code), {"photos": [jpeg_upload()], "description": "Wall"}
    )
    photo = Photo.objects.get()
    image_path = settings.MEDIA_ROOT / photo.image.name
    assert image_path.exists()
    with __import__("django").test.TestCase.captureOnCommitCallbacks(execute=True):
        client.post(url("photo_delete", photo.code))
    assert not Photo.objects.exists()
    assert not image_path.exists()


def test_visit_draft_is_saved(inspector, occupancy, open_visit):
    response = client_for(inspector).post(
        reverse("occupancy:visit_result", args=[occupancy.code]),
        {
            "action": "save",
            "result": "not_granted",
            "visit_type": "communication_only",
            "internal_notes": "Owner called ahead",
            "site_conditions": "Snow on the ground",
            "time_used_minutes": "45",
        },
        follow=True,
    )
    assert "Visit details saved." in messages_of(response)
    open_visit.refresh_from_db()
    assert (
        open_visit.visit_type,
        open_visit.internal_notes,
        open_visit.site_conditions,
        open_visit.time_used_minutes,
    ) == ("communication_only", "Owner called ahead", "Snow on the ground", 45)


def test_visit_draft_with_bad_time_is_refused_at_the_field(inspector, occupancy, open_visit):
    response = client_for(inspector).post(
        reverse("occupancy:visit_result", args=[occupancy.code]),
        {
            "action": "save",
            "result": "not_granted",
            "visit_type": "on_site",
            "time_used_minutes": "-5",
            "internal_notes": "Keep me",
        },
    )
    assert response.status_code == 400
    assert "time_used_minutes" in response.context["visit_form"].errors
    assert "Keep me" in response.content.decode()


def test_all_visits_lists_closed_visits_newest_first(inspector, occupancy):
    make_closed_visit(occupancy, inspector, sequence=1, result="not_granted")
    make_closed_visit(occupancy, inspector, sequence=2, result="granted_full")
    response = client_for(inspector).get(occupancy.get_absolute_url())
    assert [v.sequence for v in response.context["closed_visits"]] == [2, 1]
    html = response.content.decode()
    assert html.index("Granted and fully completed") < html.index("Not granted")


def count_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_inspection_view_query_count_does_not_grow_with_rows(inspector, occupancy):
    client = client_for(inspector)

    def add_rows(start, n):
        for i in range(start, start + n):
            closed = make_closed_visit(occupancy, inspector, sequence=i)
            make_finding(closed, inspector)
            make_order(closed, inspector)

    add_rows(1, 1)
    visit = Visit.objects.create(inspection=occupancy, sequence=100, started_by=inspector)
    make_finding(visit, inspector)
    make_order(visit, inspector).findings.add(make_finding(visit, inspector))
    client.post(url("photos_add", occupancy.code), {"photos": [jpeg_upload()], "description": "x"})
    one = count_queries(client, occupancy.get_absolute_url())
    add_rows(2, 49)
    for _ in range(49):
        finding = make_finding(visit, inspector)
        make_order(visit, inspector).findings.add(finding)
        photo = Photo.objects.first()
        Photo.objects.create(
            visit=visit,
            image=photo.image.name,
            thumbnail=photo.thumbnail.name,
            description="copy",
            finding=finding,
            uploaded_by=inspector,
        )
    assert count_queries(client, occupancy.get_absolute_url()) == one


def test_an_id_no_database_could_hold_is_refused_at_the_field(inspector, occupancy, open_visit):
    response = client_for(inspector).post(
        url("order_add", occupancy.code),
        {
            "order_type": "order_to_comply",
            "issued_to": "Owner",
            "description": "Fix",
            "findings": ["99999999999999999999"],
        },
    )
    assert response.status_code == 400
    assert "findings" in response.context["order_form"].errors
    assert not Order.objects.exists()


def test_photos_over_the_pixel_budget_of_a_request_are_refused_before_any_is_decoded(
    inspector, occupancy, open_visit, monkeypatch
):
    """Ten 49-megapixel PNGs in one request took 25 s and 1 GB: the request's total is read
    from the headers and refused before a single pixel is decoded."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import ImageFile

    from tests.core.test_images import tiny_png_header

    def load(self):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    photos = [
        SimpleUploadedFile(f"wall-{n}.png", tiny_png_header(7000, 7000), "image/png")
        for n in range(1, 11)
    ]
    response = client_for(inspector).post(
        url("photos_add", occupancy.code), {"photos": photos, "description": "Wall"}
    )
    assert response.status_code == 400
    (message,) = response.context["photo_form"].errors["photos"]
    # 49 MP each: the first three fit in 150 MP, the fourth and later do not.
    assert message == (
        "These photos are too large to add together (at most 150 megapixels at a time): "
        + ", ".join(f"wall-{n}.png" for n in range(4, 11))
        + ". Nothing was added; add them in another batch."
    )
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Photo.objects.exists()


def test_an_open_visit_reads_its_findings_once_for_its_lists_and_forms(inspector, occupancy):
    """Issue 16: the Deficiencies & remarks section (recorded here, carried from earlier
    visits) and the Add order and Add photos forms show one set of findings, read in one
    query; the orders issued here and those carried are one query too. What each list
    holds, and in which order, is as before."""
    earlier = make_closed_visit(occupancy, inspector, sequence=1)
    carried_late = make_finding(earlier, inspector, discovery_date=datetime.date(2026, 3, 2))
    carried_early = make_finding(earlier, inspector, discovery_date=datetime.date(2026, 3, 1))
    make_finding(earlier, inspector, is_remark=True)  # a remark is not carried
    carried_order = make_order(earlier, inspector)
    visit = Visit.objects.create(inspection=occupancy, sequence=2, started_by=inspector)
    here_second = make_finding(visit, inspector, discovery_date=datetime.date(2026, 3, 5))
    here_first = make_finding(visit, inspector, discovery_date=datetime.date(2026, 3, 4))
    here_order = make_order(visit, inspector)
    here_order.findings.add(here_first)
    client = client_for(inspector)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(occupancy.get_absolute_url())
    assert response.status_code == 200
    context = response.context
    assert context["findings"] == [here_first, here_second]
    assert context["carried_findings"] == [carried_early, carried_late]
    assert context["orders"] == [here_order]
    assert context["carried_orders"] == [carried_order]
    offered = [int(value) for value, _ in context["order_form"].fields["findings"].choices]
    assert offered == [carried_early.pk, carried_late.pk, here_first.pk, here_second.pk]
    photo_choices = context["photo_form"].fields["finding"].choices
    assert [value for value, _ in photo_choices][1:] == offered
    finding_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and ' FROM "inspections_finding" ' in q["sql"]
        and "inspections_order_findings" not in q["sql"]  # the orders' linked findings
    ]
    assert len(finding_reads) == 1
    order_reads = [q for q in queries.captured_queries if ' FROM "inspections_order" ' in q["sql"]]
    assert len(order_reads) == 1
