"""core.text.without_phone_numbers: what a permit may print of an order's "Issued to"."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audit import activity_record, excerpt
from core.text import without_phone_numbers


@pytest.mark.parametrize(
    "typed",
    [
        "Jordan Smith, owner, 905-555-0101",
        "Jordan Smith, owner, 905.555.0101",
        "Jordan Smith, owner, 905 555 0101",
        "Jordan Smith, owner, 9055550101",
        "Jordan Smith, owner, (905) 555-0101",
        "Jordan Smith, owner, (905)555-0101",
        "Jordan Smith, owner, +1 905 555 0101",
        "Jordan Smith, owner, +1-905-555-0101",
        "Jordan Smith, owner, +19055550101",
        "Jordan Smith, owner, 1 (905) 555-0101",
        "Jordan Smith, owner, 1-905-555-0101",
        "Jordan Smith, owner, 905-555-0101 ext. 204",
        "Jordan Smith, owner, 905-555-0101 x204",
        "Jordan Smith, owner, 905-555-0101, extension 7",
        "Jordan Smith, owner, 905-555-0101 #12",
        "Jordan Smith, owner, tel. 905-555-0101",
        "Jordan Smith, owner, cell: 905-555-0101",
        "Jordan Smith, owner, c: 905-555-0101 / h: 905-555-0199",
        "Jordan Smith, owner - 905-555-0101",
        "Jordan Smith, owner; 905-555-0101;",
        "Jordan Smith (905-555-0101), owner",
        "Jordan Smith, 905-555-0101, owner",
        "905-555-0101 Jordan Smith, owner",
        "  Jordan Smith, owner,  905-555-0101  ",
    ],
)
def test_phone_numbers_and_their_separators_are_left_out(typed):
    assert without_phone_numbers(typed) == "Jordan Smith, owner"


@pytest.mark.parametrize(
    "typed, printed",
    [
        # Other contact details and words stay: only phone numbers are personal here.
        (
            "Jordan Smith, owner, tel. 905-555-0101, jordan@example.com",
            "Jordan Smith, owner, jordan@example.com",
        ),
        ("Casey Builder Ltd., framing work 416-555-0199", "Casey Builder Ltd., framing work"),
        ("905-555-0101", ""),
    ],
)
def test_what_is_not_a_phone_number_stays(typed, printed):
    assert without_phone_numbers(typed) == printed


@pytest.mark.parametrize(
    "text",
    [
        "Acme Builders Ltd., contractor",
        "Unit 12, 1234 Main Street, owner",
        "Lot 27, Plan 20M-1234, owner",
        "Permit B-2026-0001, applicant",
        "Roll 2402 020 030 01500 0000",
        "Jordan Smith, owner (since 2019)",
    ],
)
def test_text_without_a_phone_number_is_unchanged(text):
    assert without_phone_numbers(text) == text


@given(
    name=st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=20),
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    style=st.sampled_from(["{a}-{e}-{l}", "({a}) {e}-{l}", "+1 {a} {e} {l}", "{a}.{e}.{l}"]),
)
def test_no_phone_number_survives_whatever_the_name(name, area, exchange, line, style):
    number = style.format(a=area, e=exchange, l=f"{line:04}")
    printed = without_phone_numbers(f"{name}, owner, {number}")
    assert printed == f"{name}, owner"


def test_an_audit_summary_that_is_cut_says_so(municipality_a, inspector):
    entry = activity_record(
        municipality_id=municipality_a.pk, actor=inspector, verb="test", summary="s" * 400
    )
    entry.refresh_from_db()
    assert entry.summary == "s" * 299 + "…"
    assert excerpt("A short text", 120) == "A short text"
