from django import forms
from django.contrib import admin
from django.utils.translation import gettext

from core.admin_scoping import MunicipalAdmin, ReadOnlyAdmin
from inspections.models import (
    DefaultInspection,
    Finding,
    Inspection,
    InspectionType,
    Order,
    Photo,
    Visit,
)


@admin.register(InspectionType)
class InspectionTypeAdmin(MunicipalAdmin):
    list_display = ["name", "municipality", "kind", "blds_type", "display_order", "is_active"]
    list_filter = ["municipality", "kind", "is_active"]
    list_editable = ["display_order", "is_active"]
    search_fields = ["name"]


class DefaultInspectionForm(forms.ModelForm):
    class Meta:
        model = DefaultInspection
        fields = ["municipality", "work_type", "inspection_type"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["inspection_type"]
        field.queryset = InspectionType.objects.select_related("municipality")
        field.label_from_instance = lambda t: f"{t.name} ({t.municipality})"

    def clean(self):
        cleaned = super().clean()
        municipality, inspection_type = cleaned.get("municipality"), cleaned.get("inspection_type")
        if municipality and inspection_type and inspection_type.municipality_id != municipality.pk:
            self.add_error(
                "inspection_type", gettext("Choose an inspection type of this municipality.")
            )
        return cleaned


@admin.register(DefaultInspection)
class DefaultInspectionAdmin(MunicipalAdmin):
    form = DefaultInspectionForm
    list_display = ["work_type", "inspection_type", "municipality"]
    list_filter = ["municipality", "work_type"]
    list_select_related = ["inspection_type", "municipality"]


@admin.register(Inspection)
class InspectionAdmin(MunicipalAdmin):
    municipality_path = "application__municipality"
    list_display = ["code", "application", "inspection_type", "status", "assigned_inspector"]
    list_filter = ["status", "inspection_type__kind", "application__municipality"]
    search_fields = ["code", "application__number"]
    list_select_related = ["application", "inspection_type", "assigned_inspector"]
    # The workflow moves an inspection (start, close, cancel: inspections.services); which
    # application and type it is for never change once it exists.
    readonly_fields = [
        "code",
        "application",
        "inspection_type",
        "status",
        "created_at",
        "updated_at",
        "cancelled_reason",
        "cancelled_by",
        "cancelled_at",
    ]

    def has_add_permission(self, request):
        # Inspections are added on the application's Work view (inspections.services).
        return False


# Visits and what was recorded on them are the workflow's (inspections.services): the admin
# only reads them.


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    municipality_path = "inspection__application__municipality"
    list_display = ["inspection", "sequence", "status", "result", "started_by", "closed_at"]
    list_filter = ["status", "result"]
    list_select_related = ["inspection__application", "inspection__inspection_type", "started_by"]
    search_fields = ["inspection__application__number"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    municipality_path = "visit__inspection__application__municipality"
    list_display = ["code", "visit", "discovery_date", "is_remark", "corrected_on_visit"]
    list_filter = ["is_remark"]
    search_fields = ["description", "visit__inspection__application__number"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    municipality_path = "visit__inspection__application__municipality"
    list_display = ["code", "order_type", "issued_to", "comply_by", "visit"]
    list_filter = ["order_type"]
    search_fields = ["issued_to", "description", "visit__inspection__application__number"]


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    municipality_path = "visit__inspection__application__municipality"
    list_display = ["code", "description", "visit", "uploaded_by", "uploaded_at"]
    search_fields = ["description"]
