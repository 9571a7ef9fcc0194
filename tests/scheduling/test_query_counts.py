"""Dispatch and My today read a constant number of queries, whatever the number of requests
on the page."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo import builders
from scheduling import services
from tests.conftest import client_for
from tests.scheduling.conftest import WEDNESDAY, make_request


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_requests(application, clerk, inspector, names):
    for name in names:
        kind = builders.inspection_type(municipality=application.municipality, name=name)
        request = make_request(application, kind, clerk)
        if inspector is not None:
            services.request_assign(
                request=request, inspector=inspector, day=WEDNESDAY, half_day="morning",
                actor=clerk,
            )


def test_dispatch_queries_do_not_grow_with_its_requests(application_a, clerk, inspector):
    client = client_for(clerk)
    add_requests(application_a, clerk, None, ["Type 0"])
    add_requests(application_a, clerk, inspector, ["Booked 0"])
    one = queries_of(client, reverse("scheduling:dispatch"))
    add_requests(application_a, clerk, None, [f"Type {n}" for n in range(1, 8)])
    add_requests(application_a, clerk, inspector, [f"Booked {n}" for n in range(1, 6)])
    assert queries_of(client, reverse("scheduling:dispatch")) == one


def test_my_today_queries_do_not_grow_with_its_requests(
    application_a, clerk, inspector, monkeypatch
):
    from scheduling import rules

    client = client_for(inspector)
    url = reverse("scheduling:my_today")
    add_requests(application_a, clerk, inspector, ["Booked 0"])
    with monkeypatch.context() as on_the_day:
        on_the_day.setattr(rules, "today", lambda: WEDNESDAY)
        one = queries_of(client, url)
    add_requests(application_a, clerk, inspector, [f"Booked {n}" for n in range(1, 7)])
    monkeypatch.setattr(rules, "today", lambda: WEDNESDAY)
    assert queries_of(client, url) == one
