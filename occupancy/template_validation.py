"""Checking an administrator's permit template before it is saved.

A template may use only the documented variables (VARIABLES below, read from the snapshot
schema in occupancy.snapshot), the vetted tags and filters of occupancy.template_sandbox,
and no escape hatch. Errors name their line.
"""

from django.core.exceptions import ValidationError
from django.template import TemplateSyntaxError
from django.template.base import FilterExpression, Node, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode

from occupancy.documents import SandboxEngine
from occupancy.snapshot import RENDER_TIME_ATTRIBUTES, described_fields, snapshot_parts


def _documented_variables() -> tuple[dict[str, tuple[str, dict[str, str]]], dict[str, dict]]:
    """The template variables and the attributes of list items, read from the schema."""
    variables, item_attributes = {}, {}
    for name, description, part, many in snapshot_parts():
        attributes = described_fields(part)
        if many:
            # A list is read in a for loop: its items' attributes are told in its description.
            item_attributes[name] = attributes
            each = "; ".join(f"{attribute}: {text}" for attribute, text in attributes.items())
            variables[name] = (f"{description}. Each item has {each}.", {})
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
    if root not in VARIABLES:
        return f"Unknown variable {{{{ {variable.var} }}}}: see the list of variables."
    attributes = VARIABLES[root][1]
    if rest and attributes and rest[0] not in attributes:
        return f"{root} has no {rest[0]}: see the list of variables."
    if rest and not attributes and root not in ITEM_ATTRIBUTES:
        return f"Unknown variable {{{{ {variable.var} }}}}: see the list of variables."
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
                    errors.append(f"Line {line}: {problem}")
        for attr in getattr(node, "child_nodelists", ()):
            child = getattr(node, attr, None)
            if child:
                _walk(child, source, frozenset(inner), errors)
        if isinstance(node, IfNode):
            for _, child in node.conditions_nodelists:
                _walk(child, source, local, errors)


def validate_template_body(body: str) -> None:
    """Raise ValidationError listing every problem, each with its line."""
    try:
        template = _validation_engine.from_string(body)
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line", "?")
        message = str(exc)
        if "Invalid filter" in message or "Invalid block tag" in message:
            message += " Only the documented tags and filters are allowed (no load, include, "
            message += "extends, debug, autoescape or safe)."
        raise ValidationError(f"Line {line}: {message}") from None
    errors: list[str] = []
    _walk(template.nodelist, body, frozenset(), errors)
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
