"""The rows of the application list (the search results page), built in Python.

A page shows 25 rows. Rendered by the template engine, each row cost about thirteen
gettext calls (four {% blocktranslate %}, the status label), a reverse() and a dozen
attribute lookups: most of a search page's CPU at 200,000 applications (issue 16). Here the
row's constant strings are translated once per page, the status labels looked up once, and
each application's URL is its municipality's prefix (reversed once per municipality) with
the number appended. The template keeps the markup; every piece it gets from a row is what
it used to compute, escaped the same way (tests/permits/test_result_rows.py compares them).
"""

import re
from typing import TypedDict

from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from permits.models import ApplicationStatus

# Numbers made of these characters only are written into a URL unchanged: the URL pattern's
# <str:number> takes them as they are and reverse() leaves unreserved characters unquoted
# (RFC 3986). Any other number (none the validator accepts, but an import could bring one)
# goes through Application.get_absolute_url().
_URL_SAFE_NUMBER = re.compile(r"[A-Za-z0-9._~-]+")
# In no slug (letters, digits, - and _), so it stands only for the number in the reversed URL.
_NUMBER_PLACEHOLDER = "~number~"


class ResultRow(TypedDict):
    """One application as its row shows it. A dict: the template engine reads a dict's keys
    before trying attributes, the cheapest lookup it has."""

    url: str
    number: str
    address: str
    status: str
    status_label: str
    applicant: SafeString  # "Applicant: {name}", translated, the name escaped
    owner: SafeString  # "Owner: {name}", or "" when the owner is not known
    roll: SafeString  # "Roll {roll}", or "" without a roll number
    latest_activity: SafeString  # "Latest activity {at}", local time as Y-m-d H:i
    municipality: str


def result_rows(applications) -> list[ResultRow]:
    """The rows of `applications` (a page of the list, their municipality already read), in
    the active language and time zone."""
    # The msgids the template's {% blocktranslate trimmed %} had, so the catalogue's
    # translations (and their word order) apply as they are; translated once a page.
    applicant = _Translated(gettext_noop("Applicant: %(name)s"))
    owner = _Translated(gettext_noop("Owner: %(name)s"))
    roll = _Translated(gettext_noop("Roll %(roll)s"))
    latest_activity = _Translated(gettext_noop("Latest activity %(at)s"))
    status_labels = {value: str(label) for value, label in ApplicationStatus.choices}
    url_prefixes: dict[str, tuple[str, str]] = {}
    rows = []
    for application in applications:
        municipality = application.municipality
        rows.append(
            {
                "url": _url(application, municipality.slug, url_prefixes),
                "number": application.number,
                "address": application.full_address,
                "status": application.status,
                "status_label": status_labels.get(application.status, application.status),
                "applicant": _fill(applicant, name=application.applicant_name),
                "owner": _fill(owner, name=application.owner_name)
                if application.owner_name
                else "",
                "roll": _fill(roll, roll=application.roll_number)
                if application.roll_number
                else "",
                "latest_activity": _fill(latest_activity, at=_minute(application.last_activity_at)),
                "municipality": municipality.name,
            }
        )
    return rows


class _Translated:
    """A msgid and its translation in the active language, looked up once a page."""

    def __init__(self, msgid: str):
        self.msgid = msgid
        self.text = gettext(msgid)


def _fill(translated: _Translated, **values: str) -> SafeString:
    """The translation with its placeholders replaced by the escaped values, as
    {% blocktranslate %} does (its text is the template's, safe; its variables escaped).
    A translation that cannot be filled (a stray %, a misspelt placeholder) gives the
    English text, as blocktranslate falls back, instead of failing the page."""
    escaped = {name: conditional_escape(v) for name, v in values.items()}
    try:
        return mark_safe(translated.text % escaped)
    except (KeyError, ValueError, TypeError):
        return mark_safe(translated.msgid % escaped)


def _minute(at) -> str:
    """`at` in the active time zone as the |date:"Y-m-d H:i" filter writes it."""
    if not at:
        return ""
    local = timezone.localtime(at)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def _url(application, slug: str, prefixes: dict[str, tuple[str, str]]) -> str:
    """application.get_absolute_url(), reversed once per municipality."""
    if not _URL_SAFE_NUMBER.fullmatch(application.number):
        return application.get_absolute_url()
    if slug not in prefixes:
        url = reverse(
            "permits:application_detail",
            kwargs={"municipality": slug, "number": _NUMBER_PLACEHOLDER},
        )
        before, _, after = url.rpartition(_NUMBER_PLACEHOLDER)
        prefixes[slug] = (before, after)
    before, after = prefixes[slug]
    return before + application.number + after
