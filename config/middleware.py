from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.translation import gettext

# No inline script or style anywhere: every asset is a file served by the app itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


# Powerful browser features the app never uses are refused to it and to anything it could
# embed. The camera stays allowed to the site itself: inspectors take photos from the visit
# page (<input type=file capture=environment>).
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "bluetooth=(), hid=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=(), "
    "display-capture=(), fullscreen=(self)"
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class NoStoreMiddleware:
    """Pages and documents hold personal data and legal records: no browser or proxy keeps a
    copy (a shared office computer's back button, a caching proxy) unless the view chose
    otherwise, as the public verification page does (a minute). After WhiteNoise, which
    answers static files itself, with their long cache headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose body is larger than its kind allows (413), before anything reads
    the body: a 200 MB upload used to be received in full before the form refused it.

    The limit follows the view the URL resolves to: the photo upload takes up to
    PHOTO_MAX_BYTES for each of the photos one request may carry, the admin's CSV import its
    IMPORT_MAX_BYTES, everything else REQUEST_MAX_BYTES. Only the Content-Length header is
    read; a body sent without one (chunked) is bounded by Django's upload limits.
    First in MIDDLEWARE, so no other middleware touches the body before.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request_size_limit(request.path_info)
        if length > limit:
            return HttpResponse(
                request_too_large_page(request, length, limit),
                status=413,
                content_type="text/html; charset=utf-8",
            )
        return self.get_response(request)


REQUEST_TOO_LARGE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
    "<title>{title} · Threshold</title></head><body><main>"
    "<h1>{heading}</h1>"
    "<p>{text}</p></main></body></html>"
)


def request_too_large_page(request, length: int, limit: int) -> str:
    """The 413 page, in the browser's language (its cookie or Accept-Language: this runs
    before the session and the user's own choice are read)."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        french = language.startswith("fr")
        text = gettext(
            "What was sent is %(size)s MB; at most %(limit)s MB may be sent at once here. "
            "Nothing was saved. Go back and send fewer or smaller files."
        ) % {"size": _megabytes(length), "limit": _megabytes(limit)}
        return REQUEST_TOO_LARGE.format(
            lang="fr-ca" if french else "en",
            title=escape(gettext("Upload too large")),
            heading=escape(gettext("The upload is too large")),
            text=escape(text),
        )


def request_size_limit(path: str) -> int:
    try:
        name = resolve(path).view_name
    except Resolver404:
        name = ""
    if name == "inspections:photos_add":
        # The photos and the form's few fields, within one bound for the whole request.
        each = settings.PHOTO_MAX_BYTES * settings.PHOTOS_PER_REQUEST + 1024 * 1024
        return min(each, settings.PHOTO_REQUEST_MAX_BYTES)
    if name == "admin:permits_application_import":
        return settings.IMPORT_MAX_BYTES + 1024 * 1024
    return settings.REQUEST_MAX_BYTES


def _megabytes(size: int) -> str:
    """In the active language's decimals ("2.5" in English, "2,5" in French)."""
    text = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
    return text.replace(".", get_format("DECIMAL_SEPARATOR"))
