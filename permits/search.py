"""The application search: what a search box entry finds, and how much of it is counted.

Every application carries a search key, `Application.search_text`, written by `search_key`
whenever the application is written: `Application.save()`, the importer's bulk path
(through `Application.build_search_text()`), and
`permits.services.application_add_other_number` for the numbers another app gives the
application (occupancy's permit numbers). A search box entry is cut into terms by
`query_terms` with the same rules, and an application is found when every term is part of
its key (`LIKE '%TERM%'`, which the trigram index of migration 0002 serves on PostgreSQL
and a plain scan on SQLite: the same rows on both).

The rules, for the key and the terms alike (docs/architecture.md, "The search"):

- letters are folded: accents dropped (é → E, ç → C), ß → SS, ø → O, æ → AE, …, upper
  case; letters of other scripts are kept as they are;
- apostrophes are dropped (Walker's → WALKERS) and every other sign separates words
  (Orchard Dr. → ORCHARD DR, B2026-0079 → B2026 0079);
- street types and directions are written one way, in full (DR → DRIVE, CRT and CT →
  COURT, E → EAST): see STREET_WORDS;
- the key holds each field's words, and the field (for the legal description and the other
  numbers, each of their words) written without separators: B20260079, OCC20260001,
  240201002012345, JEANFRANCOIS;
- a term is one word of the entry written without separators: `b2026-0079` → B20260079,
  `Jean-Francois` → JEANFRANCOIS, `Dr.` → DRIVE.

So a number is found with or without dashes and in any case, a roll number with or without
spaces, a name with or without its accents and hyphen, a street with its type written in
full or abbreviated, with or without the dot.

A search is bounded whatever it matches: `ApplicationResults` reads at most
COUNT_LIMIT + 1 matches in one pass. Up to COUNT_LIMIT, that pass is the count and the
order, and the page is read by primary key; beyond it the list says "more than 1,000"
and offers the newest COUNT_LIMIT, read newest first along the last-activity indexes.

Everything here is pure computation on values, so the importer, the benchmark's data
builder and migrations can call it without the database.
"""

import contextlib
import re
import unicodedata
from functools import cached_property

from django.db import connections, transaction

from core.numbers import grouped

MAX_TERMS = 6
COUNT_LIMIT = 1000

# Each word of a group becomes the group's first. Canada Post's abbreviations and the
# common ones seen in municipal files (Burlington's ADDRESS column writes RD., DR., CRT.).
_STREET_TYPES = (
    ("AVENUE", "AVE", "AV"),
    ("BOULEVARD", "BLVD"),
    ("CIRCLE", "CIR"),
    ("COURT", "CRT", "CT"),
    ("CRESCENT", "CRES"),
    ("DRIVE", "DR"),
    ("HIGHWAY", "HWY"),
    ("LANE", "LN"),
    ("PARKWAY", "PKY", "PKWY"),
    ("PLACE", "PL"),
    ("ROAD", "RD"),
    ("SQUARE", "SQ"),
    ("STREET", "ST"),
    ("TERRACE", "TERR", "TER"),
    ("TRAIL", "TRL"),
    ("EAST", "E"),
    ("WEST", "W"),
    ("NORTH", "N"),
    ("SOUTH", "S"),
)
STREET_WORDS = {word: group[0] for group in _STREET_TYPES for word in group}

# Letters that Unicode decomposition leaves alone, written as an English keyboard would.
_FOLDS = str.maketrans(
    {
        "ß": "SS",
        "ẞ": "SS",
        "ø": "O",
        "Ø": "O",
        "æ": "AE",
        "Æ": "AE",
        "œ": "OE",
        "Œ": "OE",
        "ł": "L",
        "Ł": "L",
        "đ": "D",
        "Đ": "D",
        "ð": "D",
        "Ð": "D",
        "þ": "TH",
        "Þ": "TH",
        "ı": "I",
        # Apostrophes join: Walker's is one word, WALKERS.
        "'": None,
        "’": None,
        "‘": None,
        "ʼ": None,
        "`": None,
    }
)
_SEPARATORS = re.compile(r"[\W_]+")

# Fields written into the key whole (their words, then the field without separators) and
# fields whose words are each written without separators (a legal description's plan
# number; one of several permit numbers).
_WHOLE_FIELDS = (
    "number",
    "unit",
    "street_address",
    "city",
    "postal_code",
    "roll_number",
    "applicant_name",
    "owner_name",
)
_WORD_FIELDS = ("other_numbers", "legal_description")
KEY_FIELDS = (*_WHOLE_FIELDS, *_WORD_FIELDS)  # a save that writes none leaves the key alone


def fold(text: str) -> str:
    """Upper case, accents dropped, apostrophes removed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLDS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def words(text: str) -> list[str]:
    """The normalised words of `text`: folded, split at every sign, street words in full."""
    return [STREET_WORDS.get(word, word) for word in _SEPARATORS.split(fold(text)) if word]


def _field_key(text: str, *, whole: bool) -> list[str]:
    parts = words(text)
    if whole:
        if len(parts) > 1:
            parts.append("".join(parts))
        return parts
    for chunk in text.split():
        chunk_words = words(chunk)
        if len(chunk_words) > 1:
            parts.append("".join(chunk_words))
    return parts


def search_key(application) -> str:
    """The search key of an application, from its number, other numbers, address, roll
    number, names and legal description (any object with those attributes: a model
    instance, a historical model in a migration, a row being built)."""
    parts = []
    for name in _WHOLE_FIELDS:
        parts += _field_key(getattr(application, name) or "", whole=True)
    for name in _WORD_FIELDS:
        parts += _field_key(getattr(application, name) or "", whole=False)
    return " ".join(parts)


def query_terms(query: str) -> list[str]:
    """The terms of a search box entry, each matched as a part of the key: one per word of
    the entry, normalised and written without separators; at most MAX_TERMS."""
    terms = []
    for chunk in query.split():
        term = "".join(words(chunk))
        if term and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


class ApplicationResults:
    """The applications of a search as the paginator sees them, read in bounded passes.

    `queryset` is the search (scoped and filtered) ordered newest first by
    (-last_activity_at, -id). The first pass reads the (id, last_activity_at) of at most
    COUNT_LIMIT + 1 matches, in whatever order the database finds them (the trigram index
    for a precise term: every match; a sequential or index walk that stops early for a
    broad one). Up to COUNT_LIMIT matches, that pass gives the count and the order, and a
    page is read by primary key. With more, the count shows "more than COUNT_LIMIT", the
    pages offer the newest COUNT_LIMIT and each is read newest first, which the
    last-activity indexes serve in a short walk since matches are many.
    """

    def __init__(self, queryset, *, limit: int = COUNT_LIMIT):
        self.queryset = queryset
        self.limit = limit

    @cached_property
    def _matches(self) -> list[tuple]:
        first = self.queryset.order_by().values_list("pk", "last_activity_at")
        with _planned_for_its_terms(self.queryset.db):
            return list(first[: self.limit + 1])

    @property
    def is_capped(self) -> bool:
        """More than `limit` applications match: the list says so and shows the newest."""
        return len(self._matches) > self.limit

    @property
    def limit_label(self) -> str:
        return grouped(self.limit)  # "more than 1,000 applications", "plus de 1 000 demandes"

    def count(self) -> int:
        return min(len(self._matches), self.limit)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list:
        if not isinstance(page, slice):
            raise TypeError("ApplicationResults is read by pages (slices)")
        if self.is_capped:
            with _planned_for_its_terms(self.queryset.db):
                return list(self.queryset[page])
        newest_first = sorted(self._matches, key=lambda m: (m[1], m[0]), reverse=True)
        ids = [pk for pk, _ in newest_first[page]]
        # By primary key only: these ids come from the scoped, filtered search above. The
        # key is not shown: not read.
        rows = (
            self.queryset.model.objects.select_related("municipality")
            .defer("search_text")
            .order_by()
            .in_bulk(ids)
        )
        return [rows[pk] for pk in ids if pk in rows]


@contextlib.contextmanager
def _planned_for_its_terms(using: str):
    """Run a search's LIKE queries with a plan made for their own terms, every time.

    PostgreSQL runs a statement its connection has prepared (config/settings.py,
    DATABASE_PREPARED_STATEMENTS) with one plan for any terms once that "generic" plan is
    estimated to cost no more than the plans made for the terms it has seen. For a search
    that plan always walks the trigram index, which a term of one or two letters cannot
    narrow: "2 ro" read the whole index, 1.7 s against 25 ms for its own plan (a sequential
    scan that stops at 1,001 matches). force_custom_plan, for this transaction only, keeps
    the search planned for what was typed; every other statement keeps its generic plan.
    The list without a term (a status or filter alone) goes through here too: a BEGIN, one
    SELECT and a COMMIT more, and its first pass planned each time, for one rule less.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    enclosed = connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('plan_cache_mode'),"
                " set_config('plan_cache_mode', 'force_custom_plan', true)"
            )
            previous = cursor.fetchone()[0]
        yield
        if enclosed:
            # A setting made in a savepoint outlives it, to the end of the enclosing
            # transaction (a test's, a caller's): give that transaction its own back.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('plan_cache_mode', %s, true)", [previous])
