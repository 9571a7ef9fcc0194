"""What a refused change must leave alone: every row of the tables it could have touched, and
every file under MEDIA_ROOT."""

from pathlib import Path

from django.apps import apps
from django.conf import settings


def rows(*models) -> dict[str, list[dict]]:
    """Every row of each model, all fields, in primary-key order: compare before and after.
    Without models, every table of the project (many-to-many tables included)."""
    if not models:
        models = apps.get_models(include_auto_created=True)
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values()) for model in models
    }


def media_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
