"""The Work view's History lists the 20 latest changes, with "Show all changes" when there
are more (issue 16: an application's full audit trail made the page slow), as the
inspection view lists its latest visits."""

import re

from core.models import Activity
from tests.conftest import client_for


def record_changes(application, user, count):
    Activity.objects.bulk_create(
        Activity(application=application, actor=user, verb="x", summary=f"Change {number}")
        for number in range(1, count + 1)
    )


def listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<br>Change (\d+)</li>", html)]


def test_the_history_lists_the_latest_changes_and_links_to_all(inspector, application_a):
    record_changes(application_a, inspector, 25)
    client = client_for(inspector)
    url = application_a.get_absolute_url()

    html = client.get(url).content.decode()
    assert listed(html) == list(range(25, 5, -1))  # newest first
    assert "Show the 20 latest changes" in html
    assert "The 20 latest changes are listed." in html
    assert f'href="{url}?history=all#history">Show all changes</a>' in html
    assert "<details>" in html

    html = client.get(url + "?history=all").content.decode()
    assert listed(html) == list(range(25, 0, -1))
    assert "<details open>" in html
    assert f'href="{url}#history">Show the latest changes only</a>' in html
    assert "Show all changes" not in html


def test_a_short_history_is_listed_whole_without_a_link(inspector, application_a):
    record_changes(application_a, inspector, 20)
    html = client_for(inspector).get(application_a.get_absolute_url()).content.decode()
    assert len(listed(html)) == 20
    assert "Show all changes" not in html
    assert "latest changes are listed" not in html
