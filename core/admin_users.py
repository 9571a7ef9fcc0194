"""Users and roles: add a staff member to a municipality with a role, in one form."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db import transaction

from core.models import Membership, Municipality, Role

User = get_user_model()


class StaffMemberCreationForm(AdminUserCreationForm):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    municipality = forms.ModelChoiceField(queryset=Municipality.objects.all())
    role = forms.ChoiceField(choices=Role.choices, initial=Role.INSPECTOR)

    class Meta(AdminUserCreationForm.Meta):
        fields = ("username", "first_name", "last_name", "email")

    def save(self, commit=True):
        with transaction.atomic():
            user = super().save(commit=True)
            Membership.objects.create(
                user=user,
                municipality=self.cleaned_data["municipality"],
                role=self.cleaned_data["role"],
            )
        return user


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["municipality", "role"]


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    add_form = StaffMemberCreationForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "municipality",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "roles", "is_staff"]
    list_filter = ["memberships__municipality", "memberships__role", "is_staff", "is_active"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__municipality")

    @admin.display(description="Roles")
    def roles(self, user) -> str:
        return ", ".join(
            f"{m.get_role_display()} at {m.municipality}" for m in user.memberships.all()
        )
