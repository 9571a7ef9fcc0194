"""The tags and filters an administrator's permit template may use.

Django's built-ins minus everything that reaches outside the document's data: {% debug %}
(dumps the server's modules), {% load %}, {% include %}/{% extends %} (read other
templates), {% url %} and {% csrf_token %}, and the escape hatches {% autoescape off %},
|safe and |safeseq (they would let a description's markup into the PDF).
"""

from django.template import Library, defaultfilters, defaulttags

ALLOWED_TAGS = {
    "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "lorem", "now",
    "regroup", "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
}  # fmt: skip
REFUSED_FILTERS = {"safe", "safeseq", "pprint"}

register = Library()
register.tags = {
    name: tag for name, tag in defaulttags.register.tags.items() if name in ALLOWED_TAGS
}
register.filters = {
    name: f for name, f in defaultfilters.register.filters.items() if name not in REFUSED_FILTERS
}
