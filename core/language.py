"""Which language a request is answered in, and a user's choice of it.

Django's LocaleMiddleware picks the language from the cookie the header's switch sets
before signing in, else from the browser's Accept-Language. A signed-in user who chose a
language (core.Profile) gets it whatever the browser: the login copies the choice into the
session (one query at login, none per page) and UserLanguageMiddleware activates it; their
choice sets no cookie, so it leaves with them. Choosing "the language of my browser" on
Preferences clears the choice and the cookie.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from core.models import Profile

SESSION_KEY = "threshold_language"


def supported_language(code: str) -> str:
    """The LANGUAGES code for `code` ('fr', 'fr-FR' and 'fr-ca' are 'fr-ca'), or ''."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code.lower())
    except LookupError:
        return ""


def without_lang_parameter(url: str) -> str:
    """`url` without its `lang` query parameter (the public pages' one-off switch)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key == "lang" for key, _value in pairs):
        return url
    query = urlencode([(k, v) for k, v in pairs if k != "lang"], safe="/")
    return urlunsplit(parts._replace(query=query))


def browser_language(request) -> str:
    """The language the browser asks for (Accept-Language), whatever the cookie says."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _quality in parse_accept_lang_header(request.headers.get("accept-language", "")):
        if code != "*" and (supported := supported_language(code)):
            return supported
    return settings.LANGUAGE_CODE


def user_language(user) -> str:
    profile = Profile.objects.filter(user=user).only("language").first()
    return profile.language if profile else ""


def user_language_set(request, language: str) -> str:
    """Records the language chosen by the request's user ('' for the browser's): on their
    profile when signed in, in the session for the pages that follow. Returns the code kept."""
    language = supported_language(language)
    if request.user.is_authenticated:
        Profile.objects.update_or_create(user=request.user, defaults={"language": language})
    if hasattr(request, "session"):
        if language:
            request.session[SESSION_KEY] = language
        else:
            request.session.pop(SESSION_KEY, None)
    return language


def language_cookie(response, language: str):
    """Sets (or, for the browser's language, deletes) the cookie LocaleMiddleware reads: a
    choice made before signing in holds through the login page."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@receiver(user_logged_in, dispatch_uid="core.language.carry_user_language")
def carry_user_language(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    language = supported_language(user_language(user))
    if language:
        request.session[SESSION_KEY] = language
        translation.activate(language)
        request.LANGUAGE_CODE = language


class UserLanguageMiddleware:
    """After LocaleMiddleware: a `lang` asked for in the address, else the signed-in user's own
    choice, carried by the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A public page's switch is a link (`?lang=fr-ca`): that response only, nothing kept,
        # so a cache keeps each language under its own address.
        language = supported_language(request.GET.get("lang", ""))
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return self.get_response(request)
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language and language != request.LANGUAGE_CODE:
            language = supported_language(language)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
