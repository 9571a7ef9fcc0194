"""Checking an administrator's permit template before it is saved.

A template may use only the documented variables (VARIABLES below), the vetted tags and
filters of occupancy.template_sandbox, and no escape hatch. Errors name their line.
"""

from django.core.exceptions import ValidationError
from django.template import TemplateSyntaxError
from django.template.base import FilterExpression, Node, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode

from occupancy.documents import SandboxEngine

# name → (description, attributes with their descriptions)
VARIABLES: dict[str, tuple[str, dict[str, str]]] = {
    "municipality": (
        "The issuing municipality",
        {
            "name": "Name, e.g. Town of Example",
            "department_name": "Department, e.g. Building Department",
            "street_address": "Street address",
            "city": "City",
            "province": "Province code, e.g. ON",
            "postal_code": "Postal code",
            "phone": "Phone",
            "email": "E-mail",
            "website": "Website",
            "chief_building_official": "Name of the chief building official",
            "chief_building_official_title": "Their title",
            "logo_data_uri": "The letterhead logo as a data: URI (empty without a logo): "
            '<img src="{{ municipality.logo_data_uri }}">',
        },
    ),
    "permit": (
        "The occupancy permit",
        {
            "number": "Permit number, e.g. OCC-2026-0007",
            "type_name": "Permit type, e.g. General",
            "kind": "general, partial or temporary",
            "kind_label": "Kind, readable",
            "granted_on": 'Occupancy granted date (a date: use |date:"F j, Y")',
            "expires_on": "Expiry date of a temporary permit, or empty",
            "description": "Occupancy permit description typed by the inspector",
            "portion_of_building": "Portion of building of a partial permit",
            "result": "granted_full or granted_outstanding",
            "result_label": "The result, readable",
            "issued_at": "Date and time of issue",
        },
    ),
    "application": (
        "The building-permit application",
        {
            "number": "Application (building permit) number",
            "full_address": "Civic address with unit and city",
            "street_address": "Street address",
            "unit": "Unit",
            "city": "City",
            "province": "Province code",
            "postal_code": "Postal code",
            "roll_number": "Assessment roll number",
            "legal_description": "Legal description (lot, plan)",
            "work_type_label": "Type of work",
            "description": "Description of the work",
            "applicant_name": "Applicant",
            "owner_name": "Owner",
        },
    ),
    "inspection": ("The occupancy inspection", {"type_name": "Inspection type, e.g. Occupancy"}),
    "visit": (
        "The visit the permit was granted on",
        {
            "sequence": "Visit number",
            "inspector_name": "Inspector who granted occupancy",
            "closed_at": "Date and time the visit was closed",
        },
    ),
    "outstanding_matters": (
        "List of outstanding matters (only for Granted, but outstanding matters); each has "
        "kind (Deficiency or Order), description, discovery_date and comply_by: "
        "{% for matter in outstanding_matters %}{{ matter.description }}{% endfor %}",
        {},
    ),
}

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
    if rest and not attributes and root != "outstanding_matters":
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
