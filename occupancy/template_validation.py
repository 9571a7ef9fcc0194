"""Checking an administrator's permit template before it is saved.

A template may use only the documented variables (VARIABLES below, read from the snapshot
schema in occupancy.snapshot), the vetted tags and filters of occupancy.template_sandbox,
and no escape hatch. It must print what makes a permit a permit (REQUIRED_PRINTS: its
number, the address, the granted date, the municipality), and it must render with sample
data within the sandbox's limits (a trial render, so a template that would exhaust a worker
is refused here rather than at a close), and that render must show the sample's number,
address and municipality (so they cannot hide in an {% if 0 %}). Errors name their line.

Templates saved before a rule existed keep working: only a save is checked.
"""

import html
import itertools
import re
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.template import Context, TemplateSyntaxError
from django.template.base import FilterExpression, Node, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.models import Municipality
from occupancy.documents import SandboxEngine
from occupancy.snapshot import (
    RENDER_TIME_ATTRIBUTES,
    PermitSnapshot,
    described_fields,
    snapshot_parts,
)
from occupancy.template_sandbox import REFUSED_TAGS, RenderLimitExceeded

# A permit body is a few kilobytes; this bounds what one render can be asked to parse.
MAX_BODY_CHARS = 200_000


class RequiredPrint(NamedTuple):
    what: str  # "the permit number"
    variables: frozenset[str]  # any of these, printed ({{ … }}), is enough
    example: str  # the variable to add, as the message shows it


REQUIRED_PRINTS = (
    RequiredPrint(_("the permit number"), frozenset({"permit.number"}), "{{ permit.number }}"),
    RequiredPrint(
        _("the address"),
        frozenset({"application.full_address", "application.street_address"}),
        "{{ application.full_address }}",
    ),
    RequiredPrint(
        _("the granted date"),
        frozenset({"permit.granted_on"}),
        '{{ permit.granted_on|date:"F j, Y" }}',
    ),
    RequiredPrint(
        _("the municipality"), frozenset({"municipality.name"}), "{{ municipality.name }}"
    ),
)


def _documented_variables() -> tuple[dict[str, tuple[str, dict[str, str]]], dict[str, dict]]:
    """The template variables and the attributes of list items, read from the schema."""
    variables, item_attributes = {}, {}
    for name, description, part, many in snapshot_parts():
        attributes = described_fields(part)
        if many:
            # A list is read in a for loop: its items' attributes are told in its description.
            item_attributes[name] = attributes
            # Lazy: the admin shows it in the administrator's language.
            each = format_lazy(
                "; ".join(["{}: {}"] * len(attributes)),
                *itertools.chain.from_iterable(attributes.items()),
            )
            variables[name] = (
                format_lazy(
                    _("{description}. Each item has {each}."), description=description, each=each
                ),
                {},
            )
        else:
            variables[name] = (description, attributes | RENDER_TIME_ATTRIBUTES.get(name, {}))
    return variables, item_attributes


# name → (description, attributes with their descriptions); list items' attributes apart
VARIABLES, ITEM_ATTRIBUTES = _documented_variables()

_validation_engine = SandboxEngine(
    dirs=[], app_dirs=False, libraries={}, autoescape=True, loaders=[], debug=True
)


def _line_of(node: Node, source: str) -> int:
    token = getattr(node, "token", None)
    if token is None or token.position is None:
        return 0
    return source.count("\n", 0, token.position[0]) + 1


def _variables_in(expression) -> list[Variable]:
    """Every Variable an expression reads: its value and its filters' arguments."""
    found = []
    if isinstance(expression, FilterExpression):
        if isinstance(expression.var, Variable):
            found.append(expression.var)
        for _, args in expression.filters:
            for is_variable, arg in args:
                if is_variable:
                    found.append(arg)
    elif hasattr(expression, "value"):  # an {% if %} literal
        found += _variables_in(expression.value)
    else:  # an {% if %} operator
        for part in ("first", "second"):
            if getattr(expression, part, None) is not None:
                found += _variables_in(getattr(expression, part))
    return found


def _check_variable(variable: Variable, local: set[str]) -> str | None:
    if variable.lookups is None:  # a literal
        return None
    root, *rest = variable.lookups
    if root in local or root == "forloop":
        return None
    unknown = gettext("Unknown variable %(variable)s: see the list of variables.") % {
        "variable": f"{{{{ {variable.var} }}}}"
    }
    if root not in VARIABLES:
        return unknown
    attributes = VARIABLES[root][1]
    if rest and attributes and rest[0] not in attributes:
        return gettext("%(variable)s has no %(attribute)s: see the list of variables.") % {
            "variable": root,
            "attribute": rest[0],
        }
    if rest and not attributes and root not in ITEM_ATTRIBUTES:
        return unknown
    return None


def _walk(nodelist, source: str, local: frozenset[str], errors: list[str]) -> None:
    for node in nodelist:
        line = _line_of(node, source)
        expressions, inner = [], local
        if isinstance(node, VariableNode):
            expressions.append(node.filter_expression)
        elif isinstance(node, ForNode):
            expressions.append(node.sequence)
            inner = local | set(node.loopvars)
        elif isinstance(node, IfNode):
            expressions += [cond for cond, _ in node.conditions_nodelists if cond is not None]
        elif isinstance(node, WithNode):
            expressions += list(node.extra_context.values())
            inner = local | set(node.extra_context)
        for expression in expressions:
            for variable in _variables_in(expression):
                problem = _check_variable(variable, set(local))
                if problem:
                    errors.append(_on_line(line, problem))
        for attr in getattr(node, "child_nodelists", ()):
            child = getattr(node, attr, None)
            if child:
                _walk(child, source, frozenset(inner), errors)
        if isinstance(node, IfNode):
            for _, child in node.conditions_nodelists:
                _walk(child, source, local, errors)


def _printed(nodelist, aliases: dict[str, str], found: set[str]) -> None:
    """The variables (root.attribute) a template prints in {{ … }}, through {% with %}."""
    for node in nodelist:
        inner = aliases
        if isinstance(node, VariableNode) and isinstance(node.filter_expression.var, Variable):
            lookups = node.filter_expression.var.lookups or ()
            if lookups:
                root = aliases.get(lookups[0], lookups[0])
                found.add(".".join([root, *lookups[1:]]))
        elif isinstance(node, WithNode):
            inner = dict(aliases)
            for name, expression in node.extra_context.items():
                var = getattr(expression, "var", None)
                if isinstance(var, Variable) and var.lookups:
                    inner[name] = ".".join(var.lookups)
        for attr in getattr(node, "child_nodelists", ()):  # an {% if %}'s: all its branches
            child = getattr(node, attr, None)
            if child:
                _printed(child, inner, found)


def _missing_prints(nodelist) -> list[str]:
    found: set[str] = set()
    _printed(nodelist, {}, found)
    return [
        gettext("The template does not print %(what)s: add %(example)s.")
        % {"what": required.what, "example": required.example}
        for required in REQUIRED_PRINTS
        if not required.variables & found
    ]


def _sample_context(permit_type=None) -> dict:
    """The preview's sample data, for a trial render (a made-up type and town if none)."""
    from occupancy.models import OccupancyPermitType, PermitKind

    if permit_type is None:
        permit_type = OccupancyPermitType(
            name="General",
            kind=PermitKind.TEMPORARY,
            needs_expiry_date=True,
            needs_portion_of_building=True,
        )
        municipality = Municipality(name="Town of Example", city="Example")
    else:
        municipality = permit_type.municipality
    snapshot = PermitSnapshot.sample(permit_type=permit_type, municipality=municipality)
    # Through JSON, as a permit's stored snapshot is read.
    return PermitSnapshot.from_json(snapshot.to_json()).template_context(logo_data_uri="")


def _comparable(text: str) -> str:
    """Text as read on the page: entities decoded, case and runs of white space ignored (a
    template may print the municipality's name |upper, or the address over two lines)."""
    return re.sub(r"\s+", " ", html.unescape(str(text))).casefold().strip()


def _unprinted_in_trial(output: str, context: dict) -> list[str]:
    """The required values the trial render did not print: one printed only in a branch or
    a loop that never runs ({% if 0 %}, a loop over "") passes the check of the source but
    prints nothing on a permit. The granted date is checked in the source only (a template
    may print it in any format)."""
    page = _comparable(output)
    expected = {
        gettext("the permit number"): (context["permit"]["number"], "{{ permit.number }}"),
        gettext("the address"): (
            context["application"]["street_address"],
            "{{ application.full_address }}",
        ),
        gettext("the municipality"): (context["municipality"]["name"], "{{ municipality.name }}"),
    }
    return [
        gettext(
            "The template does not print %(what)s when rendered with sample data (is it inside "
            "an {%% if %%} or a loop that prints nothing?): print %(example)s on every permit."
        )
        % {"what": what, "example": example}
        for what, (value, example) in expected.items()
        if _comparable(value) and _comparable(value) not in page
    ]


def _trial_render_errors(template, permit_type=None) -> list[str]:
    context = _sample_context(permit_type)
    try:
        output = template.render(Context(context, autoescape=True))
    except RenderLimitExceeded as exc:
        return [_on_line(_debug_line(exc), exc)]
    except Exception as exc:  # noqa: BLE001 - any failure of the trial render is the template's
        return [
            _on_line(
                _debug_line(exc),
                gettext("the template cannot be rendered with sample data (%(error)s).")
                % {"error": f"{type(exc).__name__}: {str(exc)[:200]}"},
            )
        ]
    return _unprinted_in_trial(output, context)


def _debug_line(exc: Exception):
    return getattr(exc, "template_debug", {}).get("line", "?")


def _on_line(line, problem) -> str:
    return gettext("Line %(line)s: %(problem)s") % {"line": line, "problem": problem}


def _syntax_message(exc: TemplateSyntaxError) -> str:
    message = str(exc)
    for tag in REFUSED_TAGS:
        if f"Invalid block tag on line {_debug_line(exc)}: '{tag}'" in message:
            return gettext("%(tag)s is not allowed: write the text the permit prints.") % {
                "tag": f"{{% {tag} %}}"
            }
    if "Invalid filter" in message or "Invalid block tag" in message:
        message += " " + gettext(
            "Only the documented tags and filters are allowed (no load, include, extends, "
            "debug, autoescape, lorem or safe)."
        )
    return message


def validate_template_body(body: str, *, permit_type=None) -> None:
    """Raise ValidationError listing every problem, each with its line. The trial render
    uses the sample data of `permit_type` (a made-up type if None)."""
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(
            gettext("The template is %(length)s characters long; at most %(limit)s are allowed.")
            % {"length": f"{len(body):,}", "limit": f"{MAX_BODY_CHARS:,}"}
        )
    try:
        template = _validation_engine.from_string(body)
    except TemplateSyntaxError as exc:
        raise ValidationError(_on_line(_debug_line(exc), _syntax_message(exc))) from None
    errors: list[str] = []
    _walk(template.nodelist, body, frozenset(), errors)
    errors += _missing_prints(template.nodelist)
    if not errors:
        errors += _trial_render_errors(template, permit_type)
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
