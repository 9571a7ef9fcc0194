"""Users and roles: add a staff member to a municipality with a role, in one form.

A municipal administrator manages the people of their municipalities only: users whose every
membership is in a municipality they administer (a user shared with another municipality is
read-only to them), never a superuser, and without the operator's fields (superuser, staff,
groups, direct permissions: what a user may do comes from their roles)."""

import copy

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import access
from core.admin_scoping import MunicipalAdmin, MunicipalTabularInline
from core.audit import admin_password_record
from core.models import Membership, Municipality, Role

User = get_user_model()


class StaffMemberCreationForm(AdminUserCreationForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.all()
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.INSPECTOR)

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
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
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
    # With a Roles column after email (get_list_display).
    list_display = ["username", "first_name", "last_name", "email", "is_staff"]

    def get_list_display(self, request):
        # The Roles column of this request: a municipal administrator sees the roles a
        # person has in the administrator's municipalities only.
        ids = access.municipality_ids(request.user, "auth.view_user")

        @admin.display(description=_("Roles"))
        def roles(user) -> str:
            return ", ".join(
                gettext("%(role)s at %(municipality)s")
                % {"role": m.get_role_display(), "municipality": m.municipality}
                for m in user.memberships.all()
                if ids is None or m.municipality_id in ids
            )

        columns = list(super().get_list_display(request))
        columns.insert(columns.index("email") + 1 if "email" in columns else len(columns), roles)
        return columns

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
            # A new member joins one of the municipalities the user may add people to. The
            # field is copied: base_fields holds the declared field of StaffMemberCreationForm
            # itself, which every request's form shares.
            field = copy.deepcopy(form.base_fields["municipality"])
            field.queryset = access.scope(
                Municipality.objects.all(), request.user, field="id", perm="auth.add_user"
            )
            form.base_fields = {**form.base_fields, "municipality": field}
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

    def user_change_password(self, request, id, form_url=""):
        """Django's page, audited: a password set, or password sign-in turned off, is an
        entry naming the person (never the password)."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            person = self.get_object(request, unquote(id))
            # Only a saved change redirects to the person's page (a refused one redirects
            # back to this page, or shows the form again).
            saved = request.method == "POST" and getattr(response, "url", None) == reverse(
                f"{self.admin_site.name}:auth_user_change", args=[person.pk]
            )
            if saved:
                admin_password_record(
                    actor=request.user,
                    user=person,
                    municipality_id=self.audit_municipality_id(request, person),
                    usable=person.has_usable_password(),
                )
        return response
