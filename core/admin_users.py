"""Users and roles: add a staff member to a municipality with a role, in one form.

A municipal administrator manages the people of their municipalities only: users whose every
membership is in a municipality they administer (a user shared with another municipality is
read-only to them), never a superuser, and without the operator's fields (superuser, staff,
groups, direct permissions: what a user may do comes from their roles)."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db import transaction

from core import access
from core.admin_scoping import MunicipalAdmin, MunicipalTabularInline
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
            )  # core.signals sets user.is_staff from it
        return user


class MembershipInline(MunicipalTabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["municipality", "role"]


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(MunicipalAdmin, UserAdmin):
    municipality_path = "memberships__municipality"
    add_form = StaffMemberCreationForm
    # What a municipal administrator edits; the operator sees UserAdmin's own fieldsets.
    municipal_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active",)}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
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
        users = super().get_queryset(request).prefetch_related("memberships__municipality")
        if access.is_superuser(request.user):
            return users
        return users.filter(is_superuser=False)

    def get_fieldsets(self, request, obj=None):
        if obj is None or access.is_superuser(request.user):
            return super().get_fieldsets(request, obj)
        return self.municipal_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if access.is_superuser(request.user):
            return super().get_readonly_fields(request, obj)
        return ["last_login", "date_joined"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and "municipality" in form.base_fields:
            # A new member joins one of the municipalities the user may add people to.
            form.base_fields["municipality"].queryset = access.scope(
                Municipality.objects.all(), request.user, field="id", perm="auth.add_user"
            )
        return form

    def audit_municipality_id(self, request, obj):
        # The audit entry goes to a municipality the user shares with the person changed.
        ids = access.municipality_ids(request.user, "auth.change_user")
        for membership in obj.memberships.all():
            if ids is None or membership.municipality_id in ids:
                return membership.municipality_id
        return None

    def _role_allows(self, request, action, obj=None):
        if not super()._role_allows(request, action):
            return False
        if obj is None or access.is_superuser(request.user):
            return True
        if obj.is_superuser:
            return False
        # Seeing a person needs one municipality in common; changing them needs every one of
        # theirs: an administrator of one town cannot rename or lock out a member of another.
        perm = f"auth.{action}_user"
        municipalities = {m.municipality_id for m in obj.memberships.all()}
        allowed = [access.can(request.user, m, perm) for m in municipalities]
        return any(allowed) if action == "view" else bool(allowed) and all(allowed)

    @admin.display(description="Roles")
    def roles(self, user) -> str:
        return ", ".join(
            f"{m.get_role_display()} at {m.municipality}" for m in user.memberships.all()
        )
