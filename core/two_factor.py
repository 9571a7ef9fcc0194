"""The second factor: who owes one, and the state changes of an authenticator and its
recovery codes.

A user with a confirmed authenticator (a django-otp TOTP device) gives a code after the
password, before any page. A municipal administrator or chief building official of a
municipality that requires it (`Municipality.require_two_factor_for_officials`) and who has
none yet must set one up first. Recovery codes are a static device of single-use tokens.
Wrong codes are throttled by django-otp (1, 2, 4, 8 … seconds, settings.OTP_*_THROTTLE_FACTOR).
"""

import enum
import logging
import math
import re
from base64 import b32encode

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import access
from core.models import Membership, Role

logger = logging.getLogger(__name__)

# The roles a municipality may require a second factor of. The devices' names are stored
# (django-otp's admin lists them, for the operator), in English.
OFFICIAL_ROLES = (Role.MUNICIPAL_ADMIN, Role.CHIEF_BUILDING_OFFICIAL)
RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_CODES_NAME = "Recovery codes"
_TOTP_CODE = re.compile(r"\d{6}")


class PendingStep(enum.Enum):
    VERIFY = "verify"  # has an authenticator: give a code
    SETUP = "setup"  # required, has none: set one up


class CodeRefused(Exception):
    """A code was wrong, or came too soon after wrong ones; the message says which."""


def pending_step(user) -> PendingStep | None:
    """What a signed-in user must do before any page, or None. Read with the user's
    memberships by core.access (the query every page makes anyway, once per request), and
    nothing once the session is verified (request.user.is_verified, from django-otp's
    middleware)."""
    if not user.is_authenticated or user.is_verified():
        return None
    has_authenticator, roles_where_required = access.second_factor_facts(user)
    if has_authenticator:
        return PendingStep.VERIFY
    if any(role in OFFICIAL_ROLES for role in roles_where_required):
        return PendingStep.SETUP
    return None


def two_factor_required_memberships():
    """Memberships whose municipality requires a second factor of the member's role."""
    return Membership.objects.filter(
        role__in=OFFICIAL_ROLES, municipality__require_two_factor_for_officials=True
    )


def required_by(user) -> list[str]:
    """The names of the municipalities that require the user to use a second factor."""
    return list(
        two_factor_required_memberships()
        .filter(user=user)
        .values_list("municipality__name", flat=True)
    )


def authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def secret_text(device: TOTPDevice) -> str:
    """The key as an authenticator app asks for it when typed: base32, in groups of four."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def normalize_code(code: str) -> str:
    """Codes as people type them: spaces and dashes dropped, recovery codes in any case."""
    return re.sub(r"[\s-]", "", code).lower()


def _throttled(device) -> str | None:
    """The refusal while the device waits after wrong codes (django-otp's throttle)."""
    allowed, details = device.verify_is_allowed()
    if allowed:
        return None
    wait = max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes. Wait %(seconds)s seconds, then try again.",
        "Too many wrong codes. Wait %(seconds)s seconds, then try again.",
        wait,
    ) % {"seconds": wait}


def authenticator_start(*, user) -> TOTPDevice:
    """The authenticator the user is setting up: the unconfirmed one already shown (so a
    reload does not invalidate what was scanned), or a new random key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def authenticator_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator being set up with its first code. Side effects: the device
    is confirmed, any other authenticator of the user removed, a new set of recovery codes
    replaces the old; returns the device and the codes (shown once). Raises CodeRefused for
    a wrong or throttled code (a wrong one counts towards the throttle)."""
    # A refusal leaves the transaction first: the wrong code's throttle count must be kept.
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            refusal = gettext("Set-up expired: reload the page and scan the new code.")
        else:
            refusal = _throttled(device)
        if refusal is None and not device.verify_token(normalize_code(code)):
            refusal = gettext("That code is not right. Enter the 6 digits the app shows now.")
        if refusal is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _replace_recovery_codes(user)
    if refusal is not None:
        raise CodeRefused(refusal)
    logger.info("Second factor turned on for user %s", user.pk)
    return device, codes


def recovery_codes_regenerate(*, user) -> list[str]:
    """A new set of recovery codes; the old ones stop working. Returns the codes."""
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
    logger.info("Recovery codes regenerated for user %s", user.pk)
    return codes


def _replace_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_CODES_NAME)
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return sorted(codes)


def code_verify(*, user, code: str):
    """Check a code given after the password: six digits go to the authenticator, anything
    else is a recovery code (used up by this). Returns the device that accepted it (to mark
    the session verified). Raises CodeRefused for a wrong code or one given while throttled
    (wrong codes wait 1, 2, 4 … seconds, per device)."""
    code = normalize_code(code)
    model = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    # A refusal leaves the transaction first: the wrong code's throttle count must be kept.
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            refusal = (
                gettext("That code is not right.")
                if model is TOTPDevice
                else gettext(
                    "That is not a code from your app, and you have no recovery codes left."
                )
            )
        else:
            refusal = _throttled(device)
        if refusal is None and not device.verify_token(code):
            refusal = gettext(
                "That code is not right. Enter the 6 digits your app shows now, "
                "or one of your recovery codes."
            )
    if refusal is not None:
        logger.warning("Second-factor code refused for user %s", user.pk)
        raise CodeRefused(refusal)
    if model is StaticDevice:
        logger.warning("Recovery code used by user %s", user.pk)
    return device
