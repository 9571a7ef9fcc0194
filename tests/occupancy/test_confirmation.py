"""The confirmation step is bound to the draft it showed (issue 13): "Yes, close the
inspection" carries the draft's fingerprint; a draft saved since (another tab, another
inspector) closes nothing and is shown to be confirmed again."""

import datetime
import re
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from core.models import Activity
from demo import builders
from inspections.models import Finding, Inspection, Order, Visit, VisitStatus
from occupancy.confirmation import draft_fingerprint, draft_unchanged
from occupancy.exceptions import DraftChanged
from occupancy.forms import VisitResultForm
from occupancy.models import (
    ConditionMark,
    GrantDraft,
    GrantDraftCondition,
    OccupancyCondition,
    OccupancyPermit,
    OccupancyPermitTemplateVersion,
    PermitNumberSequence,
)
from occupancy.rules import GrantDetails
from occupancy.services import (
    permit_template_save,
    visit_finish_and_close,
    visit_result_save_draft,
)
from permits.models import Application
from tests.conftest import client_for
from tests.db_rows import media_files, rows
from tests.factories import make_closed_visit, make_finding, make_order
from tests.occupancy.test_finish_and_close import (
    finish,
    grant_data,
    messages_of,
    shown_fingerprint,
)

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)
CHANGED = (
    "Nothing was closed. The draft changed since you saw it (another tab or another "
    "inspector). Check it below and confirm again."
)
TABLES = (
    Application,
    Inspection,
    Visit,
    Finding,
    Order,
    GrantDraft,
    Activity,
    OccupancyPermit,
    OccupancyPermitTemplateVersion,
    PermitNumberSequence,
)


VISIT_FIELDS = {
    "visit_type": "on_site",
    "internal_notes": "",
    "site_conditions": "",
    "time_used_minutes": None,
}


def everything():
    return rows(*TABLES), media_files()


def close(client, inspection, fingerprint: str | None, path=None, **kwargs):
    data = {} if fingerprint is None else {"draft_fingerprint": fingerprint}
    path = path or reverse("occupancy:visit_close", args=[inspection.code])
    return client.post(path, data, **kwargs)


def save_draft(client, inspection, data):
    """Save draft on the inspection page (the other tab)."""
    response = client.post(
        reverse("occupancy:visit_result", args=[inspection.code]), {**data, "action": "save"}
    )
    assert response.status_code == 302
    return response


def hidden_fingerprint(html: str) -> str:
    """The fingerprint "Yes, close the inspection" posts, read from the page's form."""
    return re.search(r'name="draft_fingerprint" value="([0-9a-f]*)"', html).group(1)


# Through HTTP


def test_confirmation_page_posts_the_fingerprint_of_the_draft_it_shows(
    inspector, occupancy, open_visit, general_template
):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    page = client.get(reverse("occupancy:visit_confirm", args=[occupancy.code]))
    shown = hidden_fingerprint(page.content.decode())
    assert len(shown) == 64
    visit = Visit.objects.get(pk=open_visit.pk)
    assert shown == draft_fingerprint(visit) == page.context["draft_fingerprint"]


def test_unchanged_draft_closes(inspector, occupancy, open_visit, general_template):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    response = close(client, occupancy, shown_fingerprint(client, occupancy), follow=True)
    assert messages_of(response) == [
        f"Inspection closed. Occupancy permit OCC-{TODAY.year}-0001 issued."
    ]
    assert Visit.objects.get().status == VisitStatus.CLOSED


@pytest.mark.parametrize(
    "other_tab_saves, page_shows, permit_has",
    [
        (
            {"granted_on": YESTERDAY.isoformat()},
            [f"{YESTERDAY:%Y-%m-%d}"],
            {"granted_on": YESTERDAY},
        ),
        (
            {"portion_of_building": "Basement only", "partial": True},
            ["Partial occupancy permit (Partial)", "Basement only"],
            {"portion_of_building": "Basement only", "permit_type__name": "Partial"},
        ),
        (
            {"description": "Basement apartment only."},
            ["Basement apartment only."],
            {"description": "Basement apartment only."},
        ),
        (
            {"site_conditions": "Snow on the roof, attic not accessible"},
            ["Granted and fully completed"],
            {"visit__site_conditions": "Snow on the roof, attic not accessible"},
        ),
    ],
    ids=["another date", "partial for the basement only", "description", "site conditions"],
)
def test_draft_saved_in_another_tab_closes_nothing_and_is_shown_to_confirm_again(
    inspector,
    occupancy,
    open_visit,
    general_template,
    partial_template,
    other_tab_saves,
    page_shows,
    permit_has,
):
    client, other_tab = client_for(inspector), client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    shown = shown_fingerprint(client, occupancy)
    changes = dict(other_tab_saves)
    template = partial_template if changes.pop("partial", False) else general_template
    save_draft(other_tab, occupancy, grant_data(template, **changes))
    before = everything()

    response = close(client, occupancy, shown)

    assert response.status_code == 409
    assert everything() == before  # no permit, no number taken, no report, no file
    assert messages_of(response) == [CHANGED]
    html = response.content.decode()
    assert "Finish and Close Inspection?" in html
    for text in page_shows:
        assert text in html, text
    new = hidden_fingerprint(html)
    assert new == draft_fingerprint(Visit.objects.get(pk=open_visit.pk)) != shown

    response = close(client, occupancy, new, follow=True)
    assert messages_of(response) == [
        f"Inspection closed. Occupancy permit {template.permit_type.prefix}-{TODAY.year}-0001 "
        "issued."
    ]
    assert OccupancyPermit.objects.filter(**permit_has).count() == 1


@pytest.mark.parametrize("fingerprint", [None, "", "0" * 64, "not a fingerprint ü"])
def test_close_without_the_fingerprint_of_the_draft_closes_nothing(
    inspector, occupancy, open_visit, general_template, fingerprint
):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    before = everything()
    response = close(client, occupancy, fingerprint)
    assert response.status_code == 409
    assert everything() == before
    [message] = messages_of(response)
    assert message.startswith("Nothing was closed")
    shown = hidden_fingerprint(response.content.decode())
    assert shown == draft_fingerprint(Visit.objects.get(pk=open_visit.pk))


def test_old_address_closes_with_the_fingerprint_and_refuses_a_stale_one(
    inspector, occupancy, open_visit, general_template
):
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    old_address = f"/inspections/{occupancy.code}/close"
    stale = shown_fingerprint(client, occupancy)
    save_draft(client, occupancy, grant_data(general_template, description="Changed"))
    response = close(client, occupancy, stale, path=old_address, follow=True)
    assert response.redirect_chain == [
        (reverse("occupancy:visit_close", args=[occupancy.code]), 308)
    ]
    assert response.status_code == 409
    assert not OccupancyPermit.objects.exists()

    response = close(client, occupancy, shown_fingerprint(client, occupancy), path=old_address)
    assert response.status_code == 308  # the method and the form data go to the new address
    response = close(client, occupancy, shown_fingerprint(client, occupancy), follow=True)
    assert OccupancyPermit.objects.get().description == "Changed"


def test_draft_made_incomplete_in_another_tab_is_shown_at_its_fields(
    inspector, occupancy, open_visit, general_template
):
    client, other_tab = client_for(inspector), client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    shown = shown_fingerprint(client, occupancy)
    save_draft(other_tab, occupancy, grant_data(general_template, description=""))
    response = close(client, occupancy, shown)
    assert response.status_code == 400
    assert response.context["result_form"].errors == {
        "description": ["Describe the occupancy this permit grants."]
    }
    assert messages_of(response) == [
        "Nothing was closed: the draft changed since you saw it and the result is not complete."
    ]
    assert Visit.objects.get().status == VisitStatus.OPEN
    assert not OccupancyPermit.objects.exists()


def test_draft_saved_between_the_check_and_the_visit_lock_closes_nothing(
    inspector, occupancy, open_visit, general_template, partial_template, monkeypatch
):
    # The other tab's save commits after the view compared the fingerprint (here: while the
    # view reads the draft back) and before the close locks the visit: the service's own
    # check under the lock catches it.
    client = client_for(inspector)
    finish(client, occupancy, grant_data(general_template))
    shown = shown_fingerprint(client, occupancy)
    read_draft = VisitResultForm.from_saved_draft
    saved = []

    def other_tab_saves_first(cls, visit, user=None):
        if not saved:
            saved.append(
                visit_result_save_draft(
                    visit=visit,
                    actor=inspector,
                    visit_fields=VISIT_FIELDS,
                    result="granted_full",
                    grant=GrantDetails(
                        template=partial_template,
                        granted_on=YESTERDAY,
                        description="Basement only",
                        portion_of_building="Basement only",
                    ),
                )
            )
        return read_draft(visit, user=user)

    monkeypatch.setattr(VisitResultForm, "from_saved_draft", classmethod(other_tab_saves_first))
    response = close(client, occupancy, shown)
    assert saved
    assert response.status_code == 409
    assert messages_of(response) == [CHANGED]
    assert "Basement only" in response.content.decode()
    assert not OccupancyPermit.objects.exists()
    assert not PermitNumberSequence.objects.filter(last_value__gt=0).exists()
    assert Visit.objects.get().status == VisitStatus.OPEN


# Through the service


def test_service_refuses_a_draft_that_is_not_the_one_confirmed(
    inspector, open_visit, general_template
):
    visit_result_save_draft(
        visit=open_visit,
        actor=inspector,
        visit_fields=VISIT_FIELDS,
        result="granted_full",
        grant=GrantDetails(
            template=general_template, granted_on=TODAY, description="Whole building"
        ),
    )
    shown = draft_fingerprint(Visit.objects.get(pk=open_visit.pk))
    GrantDraft.objects.filter(visit=open_visit).update(description="Basement only")
    before = everything()
    with pytest.raises(DraftChanged) as caught:
        visit_finish_and_close(
            visit=open_visit,
            actor=inspector,
            result="granted_full",
            grant=GrantDetails(
                template=general_template, granted_on=TODAY, description="Whole building"
            ),
            expected_fingerprint=shown,
        )
    assert str(caught.value) == "Nothing was closed: the draft changed since it was confirmed."
    assert everything() == before

    outcome = visit_finish_and_close(
        visit=open_visit,
        actor=inspector,
        result="granted_full",
        grant=GrantDetails(
            template=general_template, granted_on=TODAY, description="Basement only"
        ),
        expected_fingerprint=draft_fingerprint(Visit.objects.get(pk=open_visit.pk)),
    )
    assert outcome.permit.description == "Basement only"


def test_service_refuses_arguments_that_are_not_the_draft_confirmed(
    inspector, open_visit, general_template
):
    # The page's fingerprint matches the saved draft, but the close is asked to issue other
    # details (a draft changed and changed back between the view's read and the lock).
    visit_result_save_draft(
        visit=open_visit,
        actor=inspector,
        visit_fields=VISIT_FIELDS,
        result="granted_full",
        grant=GrantDetails(
            template=general_template, granted_on=TODAY, description="Whole building"
        ),
    )
    shown = draft_fingerprint(Visit.objects.get(pk=open_visit.pk))
    before = everything()
    with pytest.raises(DraftChanged):
        visit_finish_and_close(
            visit=open_visit,
            actor=inspector,
            result="granted_full",
            grant=GrantDetails(
                template=general_template, granted_on=TODAY, description="Basement only"
            ),
            expected_fingerprint=shown,
        )
    assert everything() == before


# The fingerprint


@pytest.fixture
def second_visit(inspector, occupancy, general_template):
    """Visit 2 of the occupancy inspection, drafted as a grant with outstanding matters: a
    deficiency and an order of visit 1 still open."""
    first = make_closed_visit(occupancy, inspector, sequence=1, result="not_granted")
    make_finding(first, inspector, description="Guard missing at the deck")
    make_order(first, inspector, comply_by=TODAY + datetime.timedelta(days=30))
    visit = Visit.objects.create(
        inspection=occupancy,
        sequence=2,
        started_by=inspector,
        result="granted_outstanding",
        site_conditions="Dry",
    )
    draft = GrantDraft.objects.create(
        visit=visit, template=general_template, granted_on=TODAY, description="Whole building"
    )
    for clause, text in [("(a)", "The structure is complete."), ("(e)", "Exits work.")]:
        condition = OccupancyCondition.objects.create(
            permit_type=general_template.permit_type, clause=clause, text=text
        )
        GrantDraftCondition.objects.create(draft=draft, condition=condition, mark=ConditionMark.MET)
    return visit


CHANGES = {
    "result": lambda v: Visit.objects.filter(pk=v.pk).update(
        result="not_granted", failure_reason="deficiencies"
    ),
    "visit type": lambda v: Visit.objects.filter(pk=v.pk).update(visit_type="communication_only"),
    "site conditions": lambda v: Visit.objects.filter(pk=v.pk).update(site_conditions="Wet"),
    "internal notes": lambda v: Visit.objects.filter(pk=v.pk).update(internal_notes="Dog"),
    "time used": lambda v: Visit.objects.filter(pk=v.pk).update(time_used_minutes=30),
    "no template": lambda v: GrantDraft.objects.filter(visit=v).update(template=None),
    "template saved as a new version": lambda v: permit_template_save(
        template=v.grant_draft.template, actor=v.started_by
    ),
    "template renamed": lambda v: (
        type(v.grant_draft.template)
        .objects.filter(pk=v.grant_draft.template_id)
        .update(name="Renamed")
    ),
    "granted date": lambda v: GrantDraft.objects.filter(visit=v).update(granted_on=YESTERDAY),
    "description": lambda v: GrantDraft.objects.filter(visit=v).update(description="Basement"),
    "portion": lambda v: GrantDraft.objects.filter(visit=v).update(
        portion_of_building="Basement only"
    ),
    "expiry date": lambda v: GrantDraft.objects.filter(visit=v).update(
        expires_on=TODAY + datetime.timedelta(days=90)
    ),
    "grant draft removed": lambda v: GrantDraft.objects.filter(visit=v).delete(),
    "checklist condition marked otherwise": lambda v: GrantDraftCondition.objects.filter(
        condition__clause="(e)"
    ).update(mark=ConditionMark.NOT_APPLICABLE),
    "checklist mark removed": lambda v: GrantDraftCondition.objects.filter(
        condition__clause="(e)"
    ).delete(),
    "checklist condition reworded": lambda v: OccupancyCondition.objects.filter(
        clause="(a)"
    ).update(text="The structure is substantially complete."),
    "deficiency recorded": lambda v: make_finding(v, v.started_by, description="Loose rail"),
    "deficiency reworded": lambda v: Finding.objects.update(description="Guard loose"),
    "deficiency corrected": lambda v: Finding.objects.update(corrected_on_visit=v),
    "deficiency made a remark": lambda v: Finding.objects.update(is_remark=True),
    "order complied with": lambda v: Order.objects.update(complied_on_visit=v),
    "order's comply-by date": lambda v: Order.objects.update(comply_by=TODAY),
    "order's recipient": lambda v: Order.objects.update(issued_to="The contractor"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_fingerprint_changes_with_what_the_confirmation_shows_or_the_close_uses(
    second_visit, change
):
    shown = draft_fingerprint(second_visit)
    # Rewording visit 1's matters is refused once it is closed (on PostgreSQL by the database,
    # inspections 0008); the fingerprint must notice such a change all the same.
    with builders.written_as_history():
        change(Visit.objects.get(pk=second_visit.pk))
    now = Visit.objects.get(pk=second_visit.pk)
    assert draft_fingerprint(now) != shown
    assert not draft_unchanged(visit=now, fingerprint=shown)


def test_fingerprint_stays_when_the_same_draft_is_saved_again(
    inspector, second_visit, general_template
):
    shown = draft_fingerprint(second_visit)
    marks = list(GrantDraftCondition.objects.values_list("draft", "condition", "mark"))
    visit_result_save_draft(
        visit=second_visit,
        actor=inspector,
        visit_fields={
            "visit_type": "on_site",
            "internal_notes": "",
            "site_conditions": "Dry",
            "time_used_minutes": None,
        },
        result="granted_outstanding",
        grant=GrantDetails(
            template=general_template, granted_on=TODAY, description="Whole building"
        ),
    )
    # Save draft replaces the checklist rows, the same marks included.
    GrantDraftCondition.objects.all().delete()
    GrantDraftCondition.objects.bulk_create(
        GrantDraftCondition(draft_id=d, condition_id=c, mark=m) for d, c, m in reversed(marks)
    )
    assert draft_unchanged(visit=Visit.objects.get(pk=second_visit.pk), fingerprint=shown)


def test_fingerprint_is_the_visits_own(inspector, occupancy, second_visit, general_template):
    other = make_closed_visit(occupancy, inspector, sequence=3, result="not_granted")
    assert draft_fingerprint(other) != draft_fingerprint(second_visit)


# Under the lock, on PostgreSQL


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are tested on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_close_waiting_for_a_draft_save_sees_the_saved_draft(
    inspector, application_a, occupancy_type_a, general_template, partial_template
):
    # Two server workers: one saves a draft (holding the visit lock a moment), the other
    # closes with the fingerprint the confirmation page showed before that save. The close
    # waits for the lock, then reads the committed draft and refuses.
    from tests.factories import make_inspection

    inspection = make_inspection(application_a, occupancy_type_a)
    visit = Visit.objects.create(
        inspection=inspection, sequence=1, started_by=inspector, result="granted_full"
    )
    GrantDraft.objects.create(
        visit=visit, template=general_template, granted_on=TODAY, description="Whole building"
    )
    shown = draft_fingerprint(visit)
    saving = threading.Event()
    results = {}

    def save():
        try:
            with transaction.atomic():
                visit_result_save_draft(
                    visit=visit,
                    actor=inspector,
                    visit_fields=VISIT_FIELDS,
                    result="granted_full",
                    grant=GrantDetails(
                        template=partial_template,
                        granted_on=TODAY,
                        description="Basement only",
                        portion_of_building="Basement only",
                    ),
                )
                saving.set()
                time.sleep(0.5)  # the close is now waiting for the visit lock
        finally:
            connections.close_all()

    def close_as_confirmed():
        saving.wait(10)
        try:
            results["close"] = visit_finish_and_close(
                visit=visit,
                actor=inspector,
                result="granted_full",
                grant=GrantDetails(
                    template=general_template, granted_on=TODAY, description="Whole building"
                ),
                expected_fingerprint=shown,
            )
        except Exception as exc:  # collected for the assertions
            results["close"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save), threading.Thread(target=close_as_confirmed)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert isinstance(results["close"], DraftChanged), results
    assert not OccupancyPermit.objects.exists()
    assert Visit.objects.get().status == VisitStatus.OPEN
    assert GrantDraft.objects.get().portion_of_building == "Basement only"
