"""Pages that several apps fill, without the page's app importing the apps above it.

The Work view of an application (permits) shows the inspections and the occupancy permits of
the apps above it; the inspection page (inspections) shows occupancy's Finish and Close form
and the permit issued on each visit. The app that owns a page registers it with its own
context; every app that has something to show on it registers a section (a template fragment
and the read function that fills it) in its AppConfig.ready(). A view of any app renders the
page by name: occupancy's views re-render the inspection page with their bound form without
importing inspections' views.

Links contributed to another app's list (the documents of a visit) use the same idea:
`register_links(name, function)`, read back with `links(name, objects)`.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

BoundForms = Mapping[str, BaseForm]


@dataclass(frozen=True)
class Page:
    name: str
    template: str
    # (request, **objects) -> the page's own context, e.g. {"inspection": …, "visit": …}
    context: Callable[..., dict]


@dataclass(frozen=True)
class Section:
    page: str
    name: str  # the section's id on the page (its anchor)
    label: str  # its heading, used in the error summary and the section menu
    template: str
    # (request, page context, bound forms) -> the section's context, or None to leave it out.
    # Its keys are added to the page's context; two sections may not use the same key.
    context: Callable[[HttpRequest, dict, BoundForms], dict | None]
    order: int = 100
    forms: tuple[str, ...] = ()  # names of the bound forms it shows, for the error summary
    in_menu: bool = True


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    badge: str = ""  # e.g. "Revoked", shown next to the link
    note: str = ""  # e.g. a revocation's date and reason, shown under the link


_pages: dict[str, Page] = {}
_sections: dict[str, dict[str, Section]] = defaultdict(dict)
LinkFunction = Callable[[list], Mapping[object, list[Link]]]
_links: dict[str, dict[LinkFunction, int]] = defaultdict(dict)


def register_page(page: Page) -> None:
    _pages[page.name] = page


def register_section(section: Section) -> None:
    # Keyed by name: a second ready() (tests, reloads) replaces instead of duplicating.
    _sections[section.page][section.name] = section


def register_links(name: str, function: LinkFunction, *, order: int = 100) -> None:
    """Contribute links to the named list: `function(objects)` returns {object key: links}."""
    _links[name][function] = order


def links(name: str, objects: Iterable) -> dict[object, list[Link]]:
    """Every registered contribution to the named list, merged per object key."""
    objects = list(objects)
    merged: dict[object, list[Link]] = defaultdict(list)
    for function, _ in sorted(_links[name].items(), key=lambda item: item[1]):
        for key, found in function(objects).items():
            merged[key].extend(found)
    return dict(merged)


def sections(page: str) -> list[Section]:
    return sorted(_sections[page].values(), key=lambda s: (s.order, s.name))


def page_context(
    request: HttpRequest, page_name: str, *, bound_forms: BoundForms | None = None, **objects
) -> dict:
    try:
        page = _pages[page_name]
    except KeyError:
        raise ImproperlyConfigured(f"No page {page_name!r} is registered.") from None
    bound_forms = bound_forms or {}
    context = page.context(request, **objects)
    shown = []
    for section in sections(page_name):
        extra = section.context(request, context, bound_forms)
        if extra is None:
            continue
        clash = context.keys() & extra.keys()
        if clash:
            raise ImproperlyConfigured(
                f"Section {section.name!r} of page {page_name!r} reuses {sorted(clash)}."
            )
        context.update(extra)
        shown.append(section)
    context["sections"] = shown
    context["form_errors"] = [
        (section.name, section.label)
        for section in shown
        if any(
            bound_forms.get(name) is not None and bound_forms[name].errors for name in section.forms
        )
    ]
    return context


def render_page(
    request: HttpRequest,
    page_name: str,
    *,
    status: int = 200,
    bound_forms: BoundForms | None = None,
    **objects,
) -> HttpResponse:
    """Render a registered page with every section registered for it. `bound_forms` replaces
    a section's blank form with one the user submitted (with its errors)."""
    context = page_context(request, page_name, bound_forms=bound_forms, **objects)
    return render(request, _pages[page_name].template, context, status=status)
