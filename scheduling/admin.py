"""A municipality's booking configuration, kept by its municipal administrator: the
minimum notice, the days its building department is closed besides the statutory
holidays, and each inspector's daily capacity."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext

from core.admin_scoping import MunicipalAdmin
from scheduling.models import Holiday, InspectorCapacity, SchedulingSettings


@admin.register(SchedulingSettings)
class SchedulingSettingsAdmin(MunicipalAdmin):
    list_display = ["municipality", "minimum_notice_days"]


@admin.register(Holiday)
class HolidayAdmin(MunicipalAdmin):
    list_display = ["date", "name", "municipality"]
    list_filter = ["municipality"]
    date_hierarchy = "date"
    search_fields = ["name"]


class InspectorCapacityForm(forms.ModelForm):
    class Meta:
        model = InspectorCapacity
        fields = ["municipality", "user", "inspections_per_day"]

    def clean(self):
        cleaned = super().clean()
        municipality, user = cleaned.get("municipality"), cleaned.get("user")
        if municipality and user and not user.memberships.filter(municipality=municipality):
            self.add_error("user", gettext("Choose a member of this municipality."))
        return cleaned


@admin.register(InspectorCapacity)
class InspectorCapacityAdmin(MunicipalAdmin):
    form = InspectorCapacityForm
    list_display = ["user", "inspections_per_day", "municipality"]
    list_filter = ["municipality"]
    list_select_related = ["user", "municipality"]
