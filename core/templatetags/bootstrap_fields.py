"""Forms in Bootstrap 5 markup, written in Python: the markup of crispy-forms' `|crispy` and
`|as_crispy_field` with this project's bootstrap5 templates (templates/bootstrap5: the
asterisk hidden from screen readers, each radio button and checkbox of a group naming its
help text and error in aria-describedby, role="alert" on a form's own errors), without
rendering five to eight templates per field.

Issue 16: on the inspection view, crispy's per-field template stack was most of the page's
template rendering (about 15 fields in five forms, and a checkbox or option per finding
that an order or a photo may link). The widgets themselves are still rendered by Django
(`str(bound_field)`), so their attributes (required, maxlength, aria-describedby,
aria-invalid, the hidden initial value) are Django's, as before. Only the vertical layout
these pages use is supported: no FormHelper, label or field classes.

    {% load bootstrap_fields %}
    {{ form|bootstrap_form }}
    {{ form.field|bootstrap_field }}
    {{ form.field|widget }}        (the widget alone: {{ form.field.as_widget }})
"""

from django import forms, template
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.template.defaultfilters import unordered_list
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ASTERISK = mark_safe('<span class="asteriskField" aria-hidden="true">*</span>')


@register.filter
def bootstrap_form(form) -> SafeString:
    """A whole form: its own errors, then every field (crispy's uni_form.html)."""
    parts = [_form_errors(form)]
    parts += [bootstrap_field(field) for field in form]
    return mark_safe("".join(parts))


@register.filter
def bootstrap_field(field: BoundField) -> SafeString:
    """One field (crispy-bootstrap5's field.html, vertical layout)."""
    if field.is_hidden:
        return mark_safe(str(field))
    widget = field.field.widget
    extra = field.css_classes()
    extra = f" {extra}" if extra else ""
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check{}">{}<label for="{}" '
            'class="form-check-label{}">{}{}</label>{}</div></div>',
            field.auto_id,
            extra,
            _widget(field, "form-check-input"),
            field.id_for_label,
            " requiredField" if field.field.required else "",
            field.label,
            ASTERISK if field.field.required else "",
            _errors_and_help(field),
        )
    choices = isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect)
    fieldset = field.use_fieldset and bool(field.label)
    parts = []
    if field.label:
        if fieldset:
            parts.append(
                format_html('<fieldset aria-describedby="{}">', field.aria_describedby)
                if field.aria_describedby
                else mark_safe("<fieldset>")
            )
        parts.append(
            format_html(
                '<{tag}{for_} class="form-label{required}{fs}">{label}{asterisk}</{tag}>',
                tag="legend" if field.use_fieldset else "label",
                for_=format_html(' for="{}"', field.id_for_label) if field.id_for_label else "",
                required=" requiredField" if field.field.required else "",
                fs=" fs-6" if field.use_fieldset else "",
                label=field.label,
                asterisk=ASTERISK if field.field.required else "",
            )
        )
    if choices:
        parts.append(_choices(field))
    elif isinstance(widget, forms.FileInput):
        parts.append(_file(field))
    else:
        base = "form-select" if isinstance(widget, forms.Select) else "form-control"
        parts += [_widget(field, base), _errors_and_help(field)]
    if fieldset:
        parts.append(mark_safe("</fieldset>"))
    return format_html(
        '<div id="div_{}" class="mb-3{}">{}</div>', field.auto_id, extra, mark_safe("".join(parts))
    )


@register.filter
def widget(field: BoundField) -> SafeString:
    """`{{ field }}`, the widget alone with its own attributes (`{{ field.as_widget }}` for a
    field without a hidden initial value), written in Python for a select or an input
    Django's own templates would render: the Work view's Inspection type (a template per
    option otherwise), the application list's filters, and every field of bootstrap_field."""
    if _plain_select(field):
        return _select(field)
    if _plain_input(field):
        return _input(field)
    return str(field)


def _form_errors(form) -> str:
    """templates/bootstrap5/errors.html."""
    errors = form.non_field_errors()
    if not errors:
        return ""
    return format_html(
        '<div class="alert alert-block alert-danger" role="alert"><ul class="m-0{}">{}</ul></div>',
        " list-unstyled" if len(errors) == 1 else "",
        unordered_list(errors, autoescape=True),
    )


def _widget(field: BoundField, css_class: str) -> str:
    """The widget as Django renders it, with crispy's classes: the widget's own name in
    lower case (`textinput`, `dateinput`, `select`…), then Bootstrap's (crispy_field)."""
    attrs = field.field.widget.attrs
    name = field.field.widget.__class__.__name__.lower()
    classes = attrs.get("class", "")
    if classes:
        if classes.find(name) == -1:
            classes += f" {name}"
    else:
        classes = name
    wanted = f"{css_class} is-invalid" if field.errors else css_class
    for one in wanted.split():
        if one not in classes.split():
            classes += f" {one}"
    attrs["class"] = classes
    return widget(field)


# Django's templates of these widgets are an <input> (input.html) or a <textarea>: _input
# writes them the same, character for character.
INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "date", "number", "email", "url", "checkbox", "hidden")
}
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


def _plain(field: BoundField) -> bool:
    """A field str(field) renders as its widget alone, with Django's default renderer."""
    return (
        isinstance(field.form.renderer, DjangoTemplates)
        and not field.field.show_hidden_initial
        and not field.field.localize
    )


def _plain_select(field: BoundField) -> bool:
    """A select rendered by Django's own templates, which _select writes the same."""
    widget = field.field.widget
    return (
        isinstance(widget, forms.Select)
        and widget.template_name == forms.Select.template_name
        and widget.option_template_name == forms.Select.option_template_name
        and _plain(field)
    )


def _plain_input(field: BoundField) -> bool:
    """An input or a textarea rendered by Django's own templates (see INPUT_TEMPLATES)."""
    template = field.field.widget.template_name
    return (template in INPUT_TEMPLATES or template == TEXTAREA_TEMPLATE) and _plain(field)


def _widget_context(field: BoundField) -> dict:
    """What BoundField.as_widget() gives the widget's template."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    return widget.get_context(field.html_name, field.value(), attrs)["widget"]


def _input(field: BoundField) -> SafeString:
    """BoundField.as_widget() of an input or a textarea, character for character."""
    context = _widget_context(field)
    if field.field.widget.template_name == TEXTAREA_TEMPLATE:
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            context["name"],
            _attrs(context["attrs"]),
            context["value"] or "",
        )
    value = context["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        context["type"],
        context["name"],
        format_html(' value="{}"', str(value)) if value is not None else "",
        _attrs(context["attrs"]),
    )


def _select(field: BoundField) -> SafeString:
    """BoundField.as_widget() of a select, character for character, without rendering
    select.html and, for every option, select_option.html and attrs.html (a choice per open
    finding on a long inspection)."""
    context = _widget_context(field)
    parts = [format_html('<select name="{}"{}>', context["name"], _attrs(context["attrs"]))]
    for group_name, options, _ in context["optgroups"]:
        if group_name:
            parts.append(format_html('\n  <optgroup label="{}">', group_name))
        for option in options:
            parts.append(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    _attrs(option["attrs"]),
                    option["label"],
                )
            )
        if group_name:
            parts.append(mark_safe("\n  </optgroup>"))
    parts.append(mark_safe("\n</select>"))  # the renderer strips the template's newline
    return mark_safe("".join(parts))


def _attrs(attrs: dict, skip: str = "") -> str:
    """bootstrap5/layout/attrs.html: ` name="value"`, a bare name for True, none for False."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(' {}="{}"', name, value) if value is not True else f" {name}",)
            for name, value in attrs.items()
            if value is not False and name != skip
        ),
    )


def _help(field: BoundField) -> str:
    """bootstrap5/layout/help_text.html."""
    if not field.help_text:
        return ""
    if field.auto_id:
        return format_html(
            '<div id="{}_helptext" class="form-text">{}</div>',
            field.auto_id,
            mark_safe(field.help_text),
        )
    return format_html('<div class="form-text">{}</div>', mark_safe(field.help_text))


def _errors(field: BoundField) -> str:
    """bootstrap5/layout/field_errors_block.html."""
    if not field.errors:
        return ""
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        field.errors.field_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((number, field.auto_id, error) for number, error in enumerate(field.errors, 1)),
        ),
    )


def _errors_and_help(field: BoundField) -> str:
    """bootstrap5/layout/help_text_and_errors.html (errors as a block, then the help)."""
    return mark_safe(_errors(field) + _help(field))


def _choices(field: BoundField) -> str:
    """templates/bootstrap5/layout/radio_checkbox_select.html: every option names the
    field's help text and error in aria-describedby."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    groups = widget.optgroups(field.html_name, widget.format_value(field.value()), attrs)
    invalid = " is-invalid" if field.errors else ""
    described = (
        format_html(' aria-describedby="{}"', field.aria_describedby)
        if field.aria_describedby
        else ""
    )
    parts = [mark_safe("<div>")]
    for group_number, (group, options, _) in enumerate(groups, 1):
        if group:
            parts.append(format_html("<strong>{}</strong>", group))
        for number, option in enumerate(options, 1):
            last = number == len(options) and group_number == len(groups)
            parts.append(
                format_html(
                    '<div class="form-check"><input type="{}" class="form-check-input{}" '
                    'name="{}" value="{}"{}{}><label for="{}" class="form-check-label">{}'
                    "</label>{}</div>",
                    option["type"],
                    invalid,
                    field.html_name,
                    str(option["value"]),
                    _attrs(option["attrs"]),
                    described,
                    option["attrs"].get("id", ""),
                    str(option["label"]),
                    _errors(field) if last else "",
                )
            )
    parts += [mark_safe("</div>"), _help(field)]
    return mark_safe("".join(conditional_escape(part) for part in parts))


def _file(field: BoundField) -> str:
    """bootstrap5/layout/field_file.html (a file input of its own, no crispy classes)."""
    invalid = bool(field.errors)
    parts = []
    for subwidget in field.subwidgets:
        data = subwidget.data
        if data.get("is_initial"):
            parts.append(
                format_html(
                    '<div class="input-group mb-2"><span class="input-group-text">{}</span>'
                    '<div class="form-control d-flex h-auto"><span class="text-break '
                    'flex-grow-1"><a href="{}">{}</a></span>{}</div></div>',
                    data["initial_text"],
                    field.value().url,
                    field.value().name,
                    ""
                    if data.get("required")
                    else format_html(
                        '<span class="align-self-center ml-2"><span class="form-check">'
                        '<input type="checkbox" name="{}" id="{}" class="form-check-input"{}>'
                        '<label class="form-check-label mb-0" for="{}">{}</label></span></span>',
                        data["checkbox_name"],
                        data["checkbox_id"],
                        " disabled" if field.field.disabled else "",
                        data["checkbox_id"],
                        data["clear_checkbox_label"],
                    ),
                )
            )
        own = data["attrs"].get("class")
        parts.append(
            format_html(
                '<div{}><input type="{}" name="{}" class="form-control{}{}"{}{}>{}</div>',
                mark_safe(' class="is-invalid"') if invalid else "",
                data["type"],
                data["name"],
                f" {own}" if own else "",
                " is-invalid" if invalid else "",
                " disabled" if field.field.disabled else "",
                _attrs(data["attrs"], skip="class"),
                _errors_and_help(field),
            )
        )
    return mark_safe("".join(parts))
