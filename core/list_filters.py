"""Filters that apps above a list's app add to it, without the list's app importing them.

The application list (permits) offers "With overdue matters", which only inspections can
tell: inspections registers the filter in its AppConfig.ready() and permits' search form
lists every filter registered for "applications" by name. A filter narrows the list's
queryset in the same query (a filter or an EXISTS), so the list's query count stays flat.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class ListFilter:
    list_name: str  # the list it narrows, e.g. "applications"
    name: str  # its value in the URL, e.g. ?show=overdue_matters
    label: str  # what the user picks, e.g. "With overdue matters"
    apply: Callable[[QuerySet], QuerySet]
    order: int = 100


_filters: dict[str, dict[str, ListFilter]] = defaultdict(dict)


def register_filter(list_filter: ListFilter) -> None:
    # Keyed by name: a second ready() (tests, reloads) replaces instead of duplicating.
    _filters[list_filter.list_name][list_filter.name] = list_filter


def filters(list_name: str) -> list[ListFilter]:
    return sorted(_filters[list_name].values(), key=lambda f: (f.order, f.name))


def apply_filter(list_name: str, name: str, queryset: QuerySet) -> QuerySet:
    """The queryset narrowed by the named filter; unchanged for an empty or unknown name."""
    list_filter = _filters[list_name].get(name)
    return list_filter.apply(queryset) if list_filter is not None else queryset
