from django import template

from inspections.models import VisitResult

register = template.Library()


@register.filter
def result_label(value: str) -> str:
    """The readable label of a stored visit result ("granted_full" → "Granted and fully …")."""
    try:
        return VisitResult(value).label
    except ValueError:
        return value or ""
