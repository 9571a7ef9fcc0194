from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import (
    access,
    admin_users,  # noqa: F401 - registers the User admin
    signing,
)
from core.admin_forms import MunicipalityForm
from core.admin_scoping import (
    MunicipalAdmin,
    MunicipalTabularInline,
    ReadOnlyAdmin,
    SuperuserOnlyAdmin,
)
from core.audit import admin_change_record
from core.models import (
    Activity,
    Delivery,
    Membership,
    Municipality,
    RoleGroup,
    SigningCertificate,
)


class MembershipInline(MunicipalTabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Municipality)
class MunicipalityAdmin(MunicipalAdmin):
    municipality_path = "id"
    form = MunicipalityForm
    list_display = ["name", "slug", "city", "chief_building_official"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not access.is_superuser(request.user):
            # The operator's policy: an administrator cannot lift the second factor required
            # of themselves.
            fields.append("require_two_factor_for_officials")
        return fields


@admin.register(Membership)
class MembershipAdmin(MunicipalAdmin):
    list_display = ["user", "municipality", "role"]
    list_filter = ["municipality", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    # A person's staff status follows their memberships through core.signals, however a
    # membership is saved or deleted ("Delete selected" included).


@admin.register(Activity)
class ActivityAdmin(MunicipalAdmin):
    list_display = ["at", "municipality", "application", "actor", "verb", "summary"]
    list_filter = ["municipality", "verb"]
    search_fields = ["application__number", "summary"]
    list_select_related = ["municipality", "application", "actor"]
    readonly_fields = ["at", "municipality", "application", "actor", "verb", "summary", "changes"]

    # The audit trail is written by the services only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The municipality's outgoing e-mail and what became of each (sent by the job worker;
    resent from the application's page, where the history shows the outcome)."""

    list_display = ["queued_at", "municipality", "application", "recipient", "kind", "status",
                    "attempts", "sent_at", "last_error"]  # fmt: skip
    list_filter = ["municipality", "kind", "status"]
    search_fields = ["application__number", "recipient", "subject"]
    list_select_related = ["municipality", "application"]
    readonly_fields = ["municipality", "application", "kind", "recipient", "subject", "body",
                       "attachments", "status", "attempts", "last_error", "queued_at",
                       "last_queued_at", "attempt_started_at", "sent_at", "actor",
                       "resend_of"]  # fmt: skip


@admin.register(RoleGroup)
class RoleGroupAdmin(SuperuserOnlyAdmin):
    """Which group holds each role's permissions (the platform operator's choice)."""

    list_display = ["role", "group"]

    def has_delete_permission(self, request, obj=None):
        return False


# Apps of the project: each of their admin classes derives from MunicipalAdmin or
# SuperuserOnlyAdmin (tests/core/test_admin_scoping.py).
PROJECT_APPS = {"core", "permits", "inspections", "occupancy", "exchange", "demo"}


def restrict_other_apps_to_superusers(site=admin.site) -> None:
    """The admin pages of Django's and third-party apps (the groups that hold each role's
    permissions for every municipality, the login lockout records with every municipality's
    users and addresses, second-factor devices) are the platform operator's alone.

    Called from CoreConfig.ready(), after the admin registered every app's classes.
    """
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label in PROJECT_APPS or isinstance(
            model_admin, MunicipalAdmin | SuperuserOnlyAdmin
        ):
            continue
        site.unregister(model)
        admin_class = type(model_admin)
        site.register(
            model,
            type(f"SuperuserOnly{admin_class.__name__}", (SuperuserOnlyAdmin, admin_class), {}),
        )


class SigningCertificateForm(forms.ModelForm):
    """A municipality's signing certificate: the PKCS#12 file and its password, checked at
    the field (core.signing.read_pkcs12) and stored encrypted. Nothing of the stored file or
    password is ever put back into the form."""

    certificate_file = forms.FileField(
        label=_("Certificate file (.p12 or .pfx)"),
        help_text=_(
            "The PKCS#12 file with the private key and certificate that sign the "
            "municipality's permits and notices of revocation. It is stored encrypted and "
            "cannot be downloaded."
        ),
    )
    password = forms.CharField(
        label=_("Password of the certificate file"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
    )

    class Meta:
        model = SigningCertificate
        fields = ["municipality"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("certificate_file")
        if upload is None:
            return cleaned
        if upload.size > signing.MAX_PKCS12_BYTES:
            self.add_error(
                "certificate_file", gettext("This file is too large to be a certificate.")
            )
            return cleaned
        data = upload.read()
        password = cleaned.get("password") or ""
        try:
            self.certificate_details = signing.read_pkcs12(data, password, now=timezone.now())
            signing._fernet()  # refuse now, at the form, when there is no key to store it
        except signing.CertificateRefused as exc:
            self.add_error(exc.field, str(exc))
        except signing.SigningKeyMissing as exc:
            self.add_error("certificate_file", str(exc))
        else:
            self.pkcs12_data = data
        return cleaned


@admin.register(SigningCertificate)
class SigningCertificateAdmin(MunicipalAdmin):
    """Upload or replace a municipality's signing certificate; see what it is and until
    when it is valid. The file and its password are never shown or downloadable."""

    form = SigningCertificateForm
    list_display = ["municipality", "common_name", "organisation", "not_valid_after"]
    readonly_fields = [
        "subject",
        "issuer",
        "not_valid_after",
        "uploaded_by",
        "uploaded_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        # The municipality of a stored certificate does not change; upload another instead.
        fields = list(super().get_readonly_fields(request, obj))
        return ["municipality", *fields] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        signing.signing_certificate_store(
            municipality=obj.municipality,
            pkcs12_data=form.pkcs12_data,
            password=form.cleaned_data.get("password") or "",
            actor=request.user,
            certificate=obj,
        )
        super().save_model(request, obj, form, change)

    def audit_saved(self, request, obj, form, change, before: dict) -> None:
        # The audit trail records which certificate, never the file or its password.
        admin_change_record(
            actor=request.user,
            obj=obj,
            municipality_id=self.audit_municipality_id(request, obj),
            created=not change,
            before={},
            after={
                "signer": obj.common_name,
                "organisation": obj.organisation,
                "subject": obj.subject,
                "issuer": obj.issuer,
                "not_valid_after": obj.not_valid_after.isoformat(),
            },
        )
