"""System checks of Threshold's own settings (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def public_base_url_check(app_configs, **kwargs):
    """Every permit prints PUBLIC_BASE_URL for good (the database refuses to change an
    issued permit): in production it must be the site's public https address."""
    url = urlsplit(settings.PUBLIC_BASE_URL)
    if url.scheme == "https" and url.hostname not in (None, "127.0.0.1", "localhost"):
        return []
    return [
        Warning(
            f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL!r}: every permit issued prints it "
            "(with its QR code) as the address of its public verification page, and an issued "
            "permit can never be changed.",
            hint="Set PUBLIC_BASE_URL to the site's public https address before issuing "
            "permits, e.g. https://permits.example.ca.",
            id="threshold.W001",
        )
    ]


@register(Tags.translation, deploy=True)
def compiled_catalogues_check(app_configs, **kwargs):
    """A catalogue not compiled (or older than its .po) gives half-French pages without any
    error: Django's own French makes fr-ca look supported. `translations compile` fixes it."""
    from pathlib import Path

    problems = []
    for po in sorted((Path(settings.BASE_DIR) / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            state = "is missing" if not mo.exists() else "is older than its .po"
            problems.append(
                Warning(
                    f"{mo.relative_to(settings.BASE_DIR)} {state}.",
                    hint="Run `manage.py translations compile` (make install does it).",
                    id="threshold.W003",
                )
            )
    return problems
