from django import template

from core.people import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user) -> str:
    return _person_name(user)


@register.filter
def field_id(bound_field) -> str:
    return bound_field.id_for_label
