"""Account pages around Django's own: the client's address, the throttled password reset
and the second-factor pages (rules and state changes in core.two_factor)."""

import ipaddress
import logging

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from core import language, throttle, two_factor

logger = logging.getLogger(__name__)

PASSWORD_RESET_WINDOW_SECONDS = 60 * 60
_RECOVERY_CODES_SESSION_KEY = "two_factor_recovery_codes"


def client_address(request) -> str:
    """The address of the client that sent the request, for the login lockout (django-axes,
    AXES_CLIENT_IP_CALLABLE) and the password reset throttle.

    Behind the one trusted TLS proxy (BEHIND_TLS_PROXY) every request comes from the proxy;
    the client is the last entry of X-Forwarded-For, the one the proxy added (entries before
    it are whatever the client sent, and could be anything). Without a proxy the header is
    the client's own claim and is ignored. Read at each request, so tests can change it."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            pass  # no header or not an address: a request that did not pass the proxy
    return request.META.get("REMOTE_ADDR", "")


def _over_limit(kind: str, value: str, limit: int) -> bool:
    return throttle.over_limit(
        f"password-reset:{kind}", value, limit=limit, window_seconds=PASSWORD_RESET_WINDOW_SECONDS
    )


class LoginView(auth_views.LoginView):
    """Django's login, where the site's root asked for before signing in counts as no page at
    all: a visit to the bare address then lands where the person's role starts
    (LOGIN_REDIRECT_URL: My today for an inspector) rather than on the application list."""

    def get_redirect_url(self):
        url = super().get_redirect_url()
        return "" if url == "/" else url


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, with at most PASSWORD_RESET_LIMIT_PER_ADDRESS requests an
    hour from one client address and PASSWORD_RESET_LIMIT_PER_ACCOUNT for one e-mail address.
    Beyond, the answer is the usual one (whether an account exists is never revealed) but no
    e-mail is sent, and the log says so."""

    def form_valid(self, form):
        address = client_address(self.request)
        email = form.cleaned_data["email"].casefold()
        # Both counted every time, so a flood from many addresses still hits the account's.
        over_address = _over_limit("address", address, settings.PASSWORD_RESET_LIMIT_PER_ADDRESS)
        over_account = _over_limit("account", email, settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT)
        if over_address or over_account:
            logger.warning(
                "Password reset throttled (%s): no e-mail sent to %s, request from %s",
                "per address" if over_address else "per account",
                email,
                address,
            )
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


# Second factor ---------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class FirstCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("After adding Threshold to the app, enter the 6-digit code it shows."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    """Where to go after the code: the page first asked for, if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return _same_site_url(request, candidate, reverse(settings.LOGIN_REDIRECT_URL))


def two_factor_verify(request):
    """The code after the password, for a user with an authenticator."""
    if two_factor.pending_step(request.user) is not two_factor.PendingStep.VERIFY:
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.code_verify(user=request.user, code=form.cleaned_data["code"])
        except two_factor.CodeRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = two_factor.recovery_codes_left(request.user)
                messages.warning(
                    request,
                    ngettext(
                        "You used a recovery code; %(left)s left. Each works once: make new "
                        "ones on the two-factor page if you are running out.",
                        "You used a recovery code; %(left)s left. Each works once: make new "
                        "ones on the two-factor page if you are running out.",
                        left,
                    )
                    % {"left": left},
                )
            return redirect(_next_url(request))
    return render(request, "two_factor/verify.html", {"form": form, "next": _next_url(request)})


def two_factor_setup(request):
    """Add an authenticator: its key as text and as a QR code, confirmed by a first code."""
    if two_factor.authenticator(request.user) is not None:
        return redirect("two_factor_status")
    form = FirstCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.authenticator_confirm(
                user=request.user, code=form.cleaned_data["code"]
            )
        except two_factor.CodeRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            otp_login(request, device)
            request.session[_RECOVERY_CODES_SESSION_KEY] = codes
            request.session["two_factor_next"] = _next_url(request)
            return redirect("two_factor_recovery_codes")
    device = two_factor.authenticator_start(user=request.user)
    qr = segno.make(device.config_url, error="m")
    # segno writes the SVG from the otpauth URI alone (paths and numbers): nothing of it is
    # user text, so it is safe to put in the page as it is. Inline markup, not a script or a
    # style, so the CSP allows it.
    qr_svg = mark_safe(  # noqa: S308
        qr.svg_inline(
            scale=5,
            light="white",
            title=gettext("QR code of the key for your authenticator app"),
        ).replace("<svg ", '<svg role="img" ', 1)  # named by its <title> for screen readers
    )
    context = {
        "form": form,
        "secret": two_factor.secret_text(device),
        "qr_svg": qr_svg,
        "next": _next_url(request),
        "required_by": two_factor.required_by(request.user),
    }
    return render(request, "two_factor/setup.html", context)


def two_factor_recovery_codes(request):
    """The recovery codes just made, shown once: they come from the session, which forgets
    them as the page is shown (a reload goes to the two-factor page)."""
    codes = request.session.pop(_RECOVERY_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("two_factor_status")
    next_url = request.session.pop("two_factor_next", None) or reverse("two_factor_status")
    return render(request, "two_factor/recovery_codes.html", {"codes": codes, "next_url": next_url})


@require_POST
def two_factor_recovery_codes_regenerate(request):
    if two_factor.authenticator(request.user) is None:
        return redirect("two_factor_status")
    codes = two_factor.recovery_codes_regenerate(user=request.user)
    request.session[_RECOVERY_CODES_SESSION_KEY] = codes
    request.session["two_factor_next"] = reverse("two_factor_status")
    return redirect("two_factor_recovery_codes")


def two_factor_status(request):
    """Whether the second factor is on, the recovery codes left, who requires it."""
    device = two_factor.authenticator(request.user)
    context = {
        "device": device,
        "codes_left": two_factor.recovery_codes_left(request.user) if device else 0,
        "required_by": two_factor.required_by(request.user),
    }
    return render(request, "two_factor/status.html", context)


def _same_site_url(request, candidate: str, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@login_not_required
@require_POST
def language_switch(request):
    """The header's switch, signed in or not: back to the same page in the other language.

    A signed-in user's choice is theirs (profile and session), not the browser's: no cookie,
    so the next person on a shared computer starts in their own browser's language. Before
    signing in, the cookie carries it to the login. A language we do not speak changes
    nothing."""
    target = _same_site_url(request, request.POST.get("next", ""), reverse("login"))
    # A public page's one-off ?lang= must not undo the choice on the way back.
    target = language.without_lang_parameter(target)
    response = HttpResponseRedirect(target)
    chosen = language.supported_language(request.POST.get("language", ""))
    if not chosen:
        return response
    language.user_language_set(request, chosen)
    if request.user.is_authenticated:
        return response
    return language.language_cookie(response, chosen)


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        widget=forms.RadioSelect,
        choices=[("", _("The language of my browser"))] + list(settings.LANGUAGES),
    )


def preferences(request):
    """The user's own settings: the language of the pages (the e-mails to applicants follow
    each application's language of correspondence)."""
    form = PreferencesForm(
        request.POST or None, initial={"language": language.user_language(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        chosen = language.user_language_set(request, form.cleaned_data["language"])
        translation.activate(chosen or language.browser_language(request))
        messages.success(request, _("Your preferences are saved."))
        response = redirect("preferences")
        # "The language of my browser" also forgets a choice made before signing in.
        return language.language_cookie(response, "") if not chosen else response
    return render(request, "registration/preferences.html", {"form": form})
