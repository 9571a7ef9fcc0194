"""Sends a signed-in user who owes a second factor to the code (or set-up) page first."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from core import two_factor

# Pages open before the second factor: logging out, and the step's own page (below).
_ALWAYS_OPEN = {"logout", "admin:logout"}
_STEP_PAGES = {
    two_factor.PendingStep.VERIFY: "two_factor_verify",
    two_factor.PendingStep.SETUP: "two_factor_setup",
}


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware and Django's LoginRequiredMiddleware (anonymous users
    go to the login page first). Static files are served before this by WhiteNoise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        if not getattr(view_func, "login_required", True):
            # A public page (login_not_required: the permit verification page) asks nothing
            # of anyone, signed in or not.
            return None
        view_name = request.resolver_match.view_name
        if view_name in _ALWAYS_OPEN:
            return None
        step = two_factor.pending_step(request.user)
        if step is None or view_name == _STEP_PAGES[step]:
            return None
        # A page asked for by GET is where the user goes after the code.
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        target = reverse(_STEP_PAGES[step])
        return redirect(f"{target}?{query}" if query else target)
