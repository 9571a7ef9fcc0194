"""The tags and filters an administrator's permit template may use, and what a render may cost.

Django's built-ins minus everything that reaches outside the document's data: {% debug %}
(dumps the server's modules), {% load %}, {% include %}/{% extends %} (read other
templates), {% url %} and {% csrf_token %}, and the escape hatches {% autoescape off %},
|safe and |safeseq (they would let a description's markup into the PDF). {% lorem %} is
refused too: `{% lorem 4000 p %}` writes megabytes of filler and a permit prints no filler.

A render's cost is bounded while it runs, so no template (saved before these limits or
not) can hold a worker: filters that pad or repeat take a bounded width, every filter's
result has a bounded size, the loops of one render share a budget of iterations
(BoundedForNode), and everything one render writes, in a loop or not, is charged to one
budget of output and of time as each node is rendered (_bounded_nodelist_render: nine
nested {% with %} doubling a value, printed thousands of times, wrote ~100 MB before).
Going over raises RenderLimitExceeded, a PdfRenderError whose message is written for the
administrator.
"""

import functools
import re
import time

from django.template import Library, defaultfilters, defaulttags
from django.template.base import NodeList
from django.template.defaulttags import ForNode
from django.templatetags import i18n
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from core.pdf import PdfRenderError

ALLOWED_TAGS = {
    "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now", "regroup",
    "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
}  # fmt: skip
REFUSED_TAGS = {"lorem"}
REFUSED_FILTERS = {"safe", "safeseq", "pprint"}

# Widths of ljust, rjust, center and stringformat: a permit's column is never wider.
MAX_WIDTH = 200
# Digits after the point of floatformat.
MAX_PRECISION = 20
# Characters (or items) of any one filter's result: far more than a permit's longest text.
MAX_VALUE_SIZE = 100_000
# Iterations of all the loops of one render: a permit lists tens of matters or conditions.
MAX_LOOP_ITERATIONS = 10_000
# Characters one render may write (what a tag's content writes counts again in the tag's).
MAX_OUTPUT = 2_000_000
# Seconds one render may take.
RENDER_SECONDS = 5.0


class RenderLimitExceeded(PdfRenderError):
    """A template asked for more than a permit can need; str(exc) says what, for the
    administrator. Nothing is rendered."""


def _number_in(arg) -> int:
    digits = re.findall(r"\d+", str(arg))
    # A literal of thousands of digits is not converted (Python refuses past 4300 digits).
    return max((int(d[-9:]) if len(d.lstrip("0")) <= 9 else 10**9 for d in digits), default=0)


def _bounded_width(name: str, original):
    @functools.wraps(original)
    def bounded(value, arg):
        if _number_in(arg) > MAX_WIDTH:
            raise RenderLimitExceeded(
                gettext("%(filter)s is too wide: a width of at most %(limit)s is allowed.")
                % {"filter": f'{name}:"{str(arg)[:20]}"', "limit": MAX_WIDTH}
            )
        return original(value, arg)

    return bounded


def _bounded_precision(original):
    @functools.wraps(original)
    def bounded(value, arg=-1):
        if _number_in(arg) > MAX_PRECISION:
            raise RenderLimitExceeded(
                gettext("%(filter)s asks for too many digits: at most %(limit)s are allowed.")
                % {"filter": f'floatformat:"{str(arg)[:20]}"', "limit": MAX_PRECISION}
            )
        return original(value, arg)

    return bounded


def _bounded_join(original):
    @functools.wraps(original)
    def bounded(value, arg, autoescape=True):
        try:
            size = len(value) * len(str(arg))
        except TypeError:
            size = 0
        if size > MAX_VALUE_SIZE:
            raise RenderLimitExceeded(_too_large("join"))
        return original(value, arg, autoescape=autoescape)

    return bounded


def _bounded_result(name: str, original):
    """Any filter: a result larger than a permit can print is refused (so no chain of
    filters grows a value without bound)."""

    @functools.wraps(original)
    def bounded(*args, **kwargs):
        result = original(*args, **kwargs)
        if isinstance(result, str | list | tuple) and len(result) > MAX_VALUE_SIZE:
            raise RenderLimitExceeded(_too_large(name))
        return result

    return bounded


def _too_large(name: str) -> str:
    return gettext(
        "The filter %(filter)s would make a value of more than %(limit)s characters; a permit "
        "prints nothing that long."
    ) % {"filter": name, "limit": f"{MAX_VALUE_SIZE:,}"}


def _sandbox_filters() -> dict:
    filters = {}
    for name, original in defaultfilters.register.filters.items():
        if name in REFUSED_FILTERS:
            continue
        if name in ("ljust", "rjust", "center", "stringformat"):
            original = _bounded_width(name, original)
        elif name == "floatformat":
            original = _bounded_precision(original)
        elif name == "join":
            original = _bounded_join(original)
        filters[name] = _bounded_result(name, original)
    return filters


class RenderBudget:
    """What one render has used; kept in the render's context."""

    KEY = "occupancy.template_sandbox.budget"

    def __init__(self):
        self.iterations = 0
        self.output = 0
        self.deadline = time.monotonic() + RENDER_SECONDS

    @classmethod
    def of(cls, context) -> "RenderBudget":
        # render_context lives as long as one render of the top-level template.
        render_context = context.render_context
        budget = render_context.get(cls.KEY)
        if budget is None:
            budget = render_context[cls.KEY] = cls()
        return budget

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise RenderLimitExceeded(
                gettext(
                    "The loops of this template run more than %(limit)s times (loops nested "
                    "over literals?); a permit lists far fewer items."
                )
                % {"limit": f"{MAX_LOOP_ITERATIONS:,}"}
            )
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitExceeded(
                gettext("The template takes more than %(limit)s seconds to render; simplify it.")
                % {"limit": f"{RENDER_SECONDS:g}"}
            )

    def write(self, size: int) -> None:
        self.output += size
        if self.output > MAX_OUTPUT:
            raise RenderLimitExceeded(
                gettext(
                    "This template would write more than %(limit)s characters; a permit is far "
                    "shorter."
                )
                % {"limit": f"{MAX_OUTPUT:,}"}
            )
        self.check_time()


class BoundedForNode(ForNode):
    """Django's {% for %}, charging each iteration and what it writes to the render's
    budget while it runs (Django's ForNode.render, with the two charges added)."""

    def render(self, context):
        budget = RenderBudget.of(context)
        parentloop = context["forloop"] if "forloop" in context else {}
        with context.push():
            values = self.sequence.resolve(context, ignore_failures=True)
            if values is None:
                values = []
            if not hasattr(values, "__len__"):
                values = list(values)
            len_values = len(values)
            if len_values < 1:
                return self.nodelist_empty.render(context)
            if self.is_reversed:
                values = reversed(values)
            unpack = len(self.loopvars) > 1
            loop_dict = context["forloop"] = {"parentloop": parentloop}
            written = []
            for i, item in enumerate(values):
                budget.iterate()
                loop_dict.update(
                    counter0=i,
                    counter=i + 1,
                    revcounter=len_values - i,
                    revcounter0=len_values - i - 1,
                    first=i == 0,
                    last=i == len_values - 1,
                )
                if unpack:
                    try:
                        len_item = len(item)
                    except TypeError:  # not an iterable
                        len_item = 1
                    if len(self.loopvars) != len_item:
                        raise ValueError(
                            f"Need {len(self.loopvars)} values to unpack in for loop; "
                            f"got {len_item}."
                        )
                    context.update(dict(zip(self.loopvars, item, strict=True)))
                else:
                    context[self.loopvars[0]] = item
                for node in self.nodelist_loop:
                    piece = node.render_annotated(context)
                    budget.write(len(piece))
                    written.append(piece)
                if unpack:
                    context.pop()
        return mark_safe("".join(written))


def do_bounded_for(parser, token):
    node = defaulttags.do_for(parser, token)
    return BoundedForNode(
        node.loopvars, node.sequence, node.is_reversed, node.nodelist_loop, node.nodelist_empty
    )


def _is_sandboxed(context) -> bool:
    engine = getattr(getattr(context, "template", None), "engine", None)
    return __name__ in getattr(engine, "builtins", ())


_django_nodelist_render = NodeList.render


def _bounded_nodelist_render(self, context):
    """NodeList.render, charging what each node writes to the render's budget (and checking
    its deadline) as it is written, for templates of an engine built on this library only.

    Every nodelist of a template (the top level, each tag's content) renders through
    NodeList.render, and the sandbox's engine makes Django's own Template and NodeList, so
    this is where every node's output can be counted before the next is rendered; other
    templates of the site render with Django's code unchanged.
    """
    if not _is_sandboxed(context):
        return _django_nodelist_render(self, context)
    budget = RenderBudget.of(context)
    written = []
    for node in self:
        piece = node.render_annotated(context)
        try:
            budget.write(len(piece))
        except RenderLimitExceeded as exc:
            _annotate(exc, context, node)
            raise
        written.append(piece)
    return mark_safe("".join(written))


def _annotate(exc, context, node) -> None:
    """The line of `node` on `exc`, as Node.render_annotated gives a node's own errors."""
    template = context.render_context.template
    if template is not None and template.engine.debug and not hasattr(exc, "template_debug"):
        exc.template_debug = template.get_exception_info(exc, node.token)


NodeList.render = _bounded_nodelist_render


register = Library()
register.tags = {
    name: tag for name, tag in defaulttags.register.tags.items() if name in ALLOWED_TAGS
}
register.tags["for"] = do_bounded_for
# {% language "fr-ca" %}…{% endlanguage %}: a bilingual permit's French text, its month
# names in French (the shipped *_bilingual.html templates). It only switches the language.
register.tags["language"] = i18n.language
register.filters = _sandbox_filters()
