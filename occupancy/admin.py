import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import access
from core.admin_scoping import (
    MunicipalAdmin,
    MunicipalStackedInline,
    MunicipalTabularInline,
    ReadOnlyAdmin,
)
from core.pdf import PdfRenderError
from inspections.models import InspectionKind, InspectionType
from occupancy import services
from occupancy.admin_forms import (
    OccupancyPermitTemplateForm,
    OccupancyPermitTypeForm,
    permit_type_label,
)
from occupancy.checklists import permit_type_seed_checklist
from occupancy.defaults import default_template_of_kind
from occupancy.exceptions import RevocationRefused
from occupancy.forms import RevocationForm
from occupancy.models import (
    OccupancyCondition,
    OccupancyPermit,
    OccupancyPermitRevocation,
    OccupancyPermitTemplate,
    OccupancyPermitTemplateVersion,
    OccupancyPermitType,
    PermitNumberSequence,
    PermitStatus,
    RequiredInspection,
)
from occupancy.numbering import upcoming_permit_number
from occupancy.template_validation import VARIABLES

logger = logging.getLogger(__name__)


MANAGE_TEMPLATES = "occupancy.manage_templates"


class TemplateManagementAdmin(MunicipalAdmin):
    """Permit types, their checklists, templates and required inspections: adding, changing
    and deleting them is the act of managing templates (occupancy.manage_templates), in the
    object's municipality."""

    def _role_allows(self, request, action, obj=None):
        if action == "view" or access.is_superuser(request.user):
            return super()._role_allows(request, action, obj)
        if not super()._role_allows(request, action, obj):
            return False
        if obj is None:
            return access.can_somewhere(request.user, MANAGE_TEMPLATES)
        return access.can(request.user, self.object_municipality_id(obj), MANAGE_TEMPLATES)


class OccupancyConditionInline(MunicipalTabularInline):
    model = OccupancyCondition
    municipality_path = "permit_type__municipality"
    extra = 0
    fields = ["display_order", "clause", "text", "is_active"]
    verbose_name = _("checklist condition")
    verbose_name_plural = _(
        "Occupancy checklist: the conditions the inspector marks Met or Not applicable "
        "(a new type starts with the Building Code's list for its kind)"
    )


@admin.register(OccupancyPermitType)
class OccupancyPermitTypeAdmin(TemplateManagementAdmin):
    form = OccupancyPermitTypeForm
    inlines = [OccupancyConditionInline]
    list_display = [
        "name",
        "municipality",
        "kind",
        "language",
        "number_format",
        "sequence_key",
        "is_active",
    ]
    list_filter = ["municipality", "kind", "language", "is_active"]
    fieldsets = [
        (None, {"fields": ["municipality", "name", "kind", "language", "is_active"]}),
        (
            _("Numbering"),
            {"fields": ["prefix", "number_format", "sequence_key", "restart_each_year"]},
        ),
        (
            _("What the permit needs"),
            {
                "fields": [
                    "needs_portion_of_building",
                    "needs_expiry_date",
                    "needs_required_inspections",
                ]
            },
        ),
    ]

    def get_list_display(self, request):
        list_display = list(super().get_list_display(request))
        template_admin = self.admin_site._registry.get(OccupancyPermitTemplate)
        if template_admin and template_admin.has_add_permission(request):
            list_display.append("new_template")
        return list_display

    @admin.display(description=_("Templates"))
    def new_template(self, obj):
        url = reverse("admin:occupancy_occupancypermittemplate_add")
        return format_html(
            '<a href="{}?permit_type={}">{}</a>',
            url,
            obj.pk,
            gettext("New template from the %(kind)s default") % {"kind": obj.kind},
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            permit_type_seed_checklist(permit_type=form.instance)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The number its sequence really gives next (read without a lock: a hint only).
        year = timezone.localdate().year
        shared = (
            OccupancyPermitType.objects.filter(
                municipality_id=obj.municipality_id, sequence_key=obj.sequence_key
            )
            .exclude(pk=obj.pk)
            .exists()
        )
        values = {
            "permit_type": obj.name,
            "year": year,
            "number": upcoming_permit_number(permit_type=obj, year=year),
            "sequence": obj.sequence_key,
        }
        if shared:
            message = gettext(
                "The next permit of %(permit_type)s issued in %(year)s will be numbered "
                "%(number)s (unless a type sharing the sequence %(sequence)s issues one first)."
            )
        else:
            message = gettext(
                "The next permit of %(permit_type)s issued in %(year)s will be numbered %(number)s."
            )
        messages.info(request, message % values)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.permits.exists():
            return False
        return super().has_delete_permission(request, obj)


class RequiredInspectionForm(forms.ModelForm):
    class Meta:
        model = RequiredInspection
        fields = ["municipality", "work_type", "inspection_type"]

    def clean(self):
        data = super().clean()
        municipality, inspection_type = data.get("municipality"), data.get("inspection_type")
        if municipality and inspection_type and inspection_type.municipality_id != municipality.pk:
            self.add_error(
                "inspection_type",
                gettext("Choose one of %(municipality)s's inspection types.")
                % {"municipality": municipality.name},
            )
        elif inspection_type and inspection_type.kind != InspectionKind.GENERAL:
            self.add_error(
                "inspection_type",
                gettext(
                    "An occupancy inspection is where occupancy is granted: it cannot be "
                    "required before it. Choose a general inspection."
                ),
            )
        elif inspection_type and not inspection_type.is_active:
            self.add_error(
                "inspection_type",
                gettext("%(inspection_type)s is no longer in use: choose another.")
                % {"inspection_type": inspection_type.name},
            )
        return data


@admin.register(RequiredInspection)
class RequiredInspectionAdmin(TemplateManagementAdmin):
    """Which inspections must have passed before occupancy of each type of work."""

    form = RequiredInspectionForm
    list_display = ["inspection_type", "work_type", "municipality"]
    list_filter = ["municipality", "work_type"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "inspection_type":
            kwargs["queryset"] = InspectionType.objects.select_related("municipality").order_by(
                "municipality__name", "display_order", "name"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def variables_table() -> str:
    rows = []
    for name, (description, attributes) in VARIABLES.items():
        rows.append((f"{{{{ {name} }}}}" if not attributes else name, description))
        for attribute, text in attributes.items():
            rows.append((f"{{{{ {name}.{attribute} }}}}", text))
    return format_html(
        '<table class="template-variables"><thead><tr><th scope="col">{}</th>'
        '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table><p>{}</p>',
        gettext("Variable"),
        gettext("What it is"),
        format_html_join("", "<tr><td><code>{}</code></td><td>{}</td></tr>", rows),
        # Our own text, as it was part of the format string (its apostrophe stays as typed).
        mark_safe(  # noqa: S308
            gettext(
                "Tags: if, for, with, firstof, cycle, now, comment, spaceless, verbatim. "
                "Filters: Django's built-ins such as date, default, upper, linebreaksbr, yesno "
                "(not safe). Every value is escaped."
            )
        ),
    )


@admin.register(OccupancyPermitTemplate)
class OccupancyPermitTemplateAdmin(TemplateManagementAdmin):
    form = OccupancyPermitTemplateForm
    change_form_template = "admin/occupancy/occupancypermittemplate/change_form.html"
    list_display = [
        "name",
        "municipality",
        "permit_type_with_municipality",
        "version",
        "is_active",
        "updated_at",
    ]
    list_select_related = ["municipality", "permit_type__municipality"]
    list_filter = ["municipality", "is_active", "permit_type__kind"]
    readonly_fields = ["version", "updated_at", "available_variables"]
    fields = [
        "municipality",
        "permit_type",
        "name",
        "is_active",
        "version",
        "body",
        "stylesheet",
        "available_variables",
    ]
    actions = ["copy_templates"]

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description=_("Available variables"))
    def available_variables(self, obj=None):
        return variables_table()

    @admin.display(description=_("Permit type"), ordering="permit_type__name")
    def permit_type_with_municipality(self, obj):
        return permit_type_label(obj.permit_type)

    def _permit_type_choices(self, request):
        """The permit types this user may choose for a template (the form's own choices)."""
        return self.get_form(request).base_fields["permit_type"].queryset

    def get_changeform_initial_data(self, request):
        """?permit_type=<id> (the links of the permit type list and of the add page) starts
        the new template from the shipped default of that type's kind."""
        initial = super().get_changeform_initial_data(request)
        type_id = request.GET.get("permit_type", "")
        permit_type = (
            self._permit_type_choices(request)
            .select_related("municipality")
            .filter(pk=int(type_id))
            .first()
            if type_id.isdigit()
            else None
        )
        if permit_type is None:
            initial.pop("permit_type", None)
            return initial
        default = default_template_of_kind(permit_type.kind, permit_type.language)
        initial.update(
            municipality=permit_type.municipality_id,
            permit_type=permit_type.pk,
            body=default.body,
            stylesheet=default.stylesheet,
        )
        return initial

    def add_view(self, request, form_url="", extra_context=None):
        # Without JavaScript: one link per permit type fills the form with its kind's default.
        add_url = reverse("admin:occupancy_occupancypermittemplate_add")
        start_from = [
            (
                f"{add_url}?permit_type={permit_type.pk}",
                permit_type_label(permit_type),
                permit_type.get_kind_display(),
            )
            for permit_type in self._permit_type_choices(request)
            .select_related("municipality")
            .order_by("municipality__name", "name")
        ]
        extra_context = {**(extra_context or {}), "start_from_defaults": start_from}
        return super().add_view(request, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (
            request.method == "GET"
            and obj is not None
            and "conditions" not in obj.body
            and obj.permit_type.conditions.filter(is_active=True).exists()
        ):
            # Templates saved before issue 13 keep their text (issued permits re-render from
            # it); a permit issued with one does not list the checklist the inspector verified.
            messages.warning(
                request,
                gettext(
                    "This template does not print the occupancy checklist (the variable "
                    "conditions): permits issued with it will not list the conditions verified. "
                    "Add {% for condition in conditions %}…{% endfor %}, as the shipped default "
                    "templates do."
                ),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_object(self, request, obj, form, change):
        # Every save is a new version; issued permits keep the version they were rendered with.
        # (save_model audits the fields changed around this.)
        services.permit_template_save(template=obj, actor=request.user)

    @admin.action(
        description=_("Copy the selected templates (the copies start inactive)"),
        permissions=["add"],
    )
    def copy_templates(self, request, queryset):
        for template in queryset:
            if not access.can(request.user, template.municipality_id, MANAGE_TEMPLATES):
                messages.error(
                    request,
                    gettext(
                        "%(template)s was not copied: you may not manage the templates of "
                        "%(municipality)s."
                    )
                    % {"template": template.name, "municipality": template.municipality},
                )
                continue
            try:
                copy = services.permit_template_copy(template=template, actor=request.user)
            except ValidationError as exc:
                # A template saved before today's rules keeps working, but a copy is a new
                # save: it is checked like one.
                messages.error(
                    request,
                    gettext("%(template)s was not copied: %(errors)s Correct the template first.")
                    % {"template": template.name, "errors": " ".join(exc.messages)},
                )
            else:
                messages.success(
                    request,
                    gettext("Copied %(template)s to %(copy)s.")
                    % {"template": template.name, "copy": copy.name},
                )

    def has_delete_permission(self, request, obj=None):
        # Templates are deactivated, never deleted, once a permit was rendered with them.
        if (
            obj is not None
            and OccupancyPermit.objects.filter(template_version__template=obj).exists()
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="occupancy_occupancypermittemplate_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """Preview PDF: the body as typed, rendered with sample data; nothing is saved."""
        if request.method != "POST":
            return HttpResponse(gettext("Use the Preview PDF button of a template."), status=405)
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        form = self.get_form(request)(request.POST)
        requested_type = request.POST.get("permit_type", "")
        if (
            requested_type.isdigit()
            and not form.fields["permit_type"].queryset.filter(pk=requested_type).exists()
        ):
            # Another municipality's permit type (the choices are scoped): as for its pages.
            raise Http404(gettext("No such permit type."))
        form.is_valid()
        # The body as the form cleaned it: validated, and an empty new one is the default.
        body = form.cleaned_data.get("body", "")
        stylesheet = form.cleaned_data.get("stylesheet", "")
        permit_type = form.cleaned_data.get("permit_type")
        errors = list(form.errors.get("body", []))
        errors += [
            gettext("Stylesheet: %(error)s") % {"error": error}
            for error in form.errors.get("stylesheet", [])
        ]
        if permit_type is None:
            errors.append(gettext("Choose the permit type before previewing."))
        if not errors:
            try:
                pdf = services.permit_template_preview(
                    body=body,
                    stylesheet=stylesheet,
                    permit_type=permit_type,
                    municipality=permit_type.municipality,
                )
            except PdfRenderError as exc:  # the sandbox's limits included
                errors.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - the administrator's template failed
                logger.warning("Preview of a permit template failed", exc_info=True)
                errors.append(
                    gettext("The template cannot be rendered (%(error)s).")
                    % {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
                )
        if errors:
            return TemplateResponse(
                request,
                "admin/occupancy/occupancypermittemplate/preview_errors.html",
                {
                    **self.admin_site.each_context(request),
                    "errors": errors,
                    "title": gettext("Preview"),
                },
                status=400,
            )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="preview.pdf"'
        return response


@admin.register(OccupancyPermitTemplateVersion)
class OccupancyPermitTemplateVersionAdmin(ReadOnlyAdmin):
    municipality_path = "template__municipality"
    list_display = ["template", "version", "created_by", "created_at"]
    list_filter = ["template__municipality"]
    readonly_fields = ["template", "version", "body", "stylesheet", "created_by", "created_at"]


@admin.register(PermitNumberSequence)
class PermitNumberSequenceAdmin(ReadOnlyAdmin):
    # Numbers are taken only by issuing a permit; editing a counter would open a gap.
    list_display = ["municipality", "key", "year", "last_value"]


class RevocationInline(MunicipalStackedInline):
    model = OccupancyPermitRevocation
    fields = ["revoked_on", "reason", "revoked_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OccupancyPermit)
class OccupancyPermitAdmin(ReadOnlyAdmin):
    change_form_template = "admin/occupancy/occupancypermit/change_form.html"
    list_display = ["number", "municipality", "application", "permit_type", "granted_on", "status"]
    list_filter = ["municipality", "status", "permit_type__kind"]
    search_fields = ["number", "application__number"]
    list_select_related = ["municipality", "application", "permit_type"]
    readonly_fields = [
        "number",
        "status",
        "municipality",
        "application",
        "permit_type",
        "template_version",
        "result",
        "granted_on",
        "expires_on",
        "description",
        "portion_of_building",
        "issued_by",
        "issued_at",
        "pdf_sha256",
        "pdf_link",
        "language",
    ]
    exclude = ["snapshot", "pdf", "visit"]
    inlines = [RevocationInline]

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        try:
            url = reverse("occupancy:permit_pdf", args=[obj.municipality.slug, obj.number])
        except NoReverseMatch:  # a number no address can carry: the page still opens
            return gettext("%(number)s.pdf (no download address)") % {"number": obj.number}
        return format_html('<a href="{}">{}.pdf</a>', url, obj.number)

    def can_revoke(self, request, obj) -> bool:
        return obj.status == PermitStatus.ISSUED and access.can(
            request.user, obj.municipality_id, "occupancy.revoke_occupancypermit"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_revoke": obj and self.can_revoke(request, obj),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="occupancy_occupancypermit_revoke",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request, object_id):
        permit = self.get_object(request, object_id)  # 404 for another municipality
        if not self.can_revoke(request, permit):
            raise PermissionDenied
        # The app's form: the refusals of occupancy.rules.revocation_refusals at the fields.
        form = RevocationForm(request.POST if request.method == "POST" else None, permit=permit)
        if request.method == "POST" and form.is_valid():
            try:
                services.occupancy_permit_revoke(
                    permit=permit, actor=request.user, **form.cleaned_data
                )
            except RevocationRefused as exc:
                form.add_refusals(exc.refusals)
            else:
                messages.success(
                    request,
                    gettext("Occupancy permit %(number)s revoked; notice of revocation issued.")
                    % {"number": permit.number},
                )
                return redirect("admin:occupancy_occupancypermit_change", permit.pk)
        return TemplateResponse(
            request,
            "admin/occupancy/occupancypermit/revoke.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Revoke occupancy permit %(number)s") % {"number": permit.number},
                "permit": permit,
                "form": form,
                "opts": self.model._meta,
            },
            status=400 if form.errors else 200,
        )


@admin.register(OccupancyPermitRevocation)
class OccupancyPermitRevocationAdmin(ReadOnlyAdmin):
    municipality_path = "permit__municipality"
    list_display = ["permit", "revoked_on", "revoked_by", "created_at"]
    readonly_fields = [
        "permit",
        "revoked_on",
        "reason",
        "revoked_by",
        "notice_sha256",
        "created_at",
    ]
    exclude = ["notice_pdf"]
