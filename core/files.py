"""Files written during a transaction that must not outlive it."""

from django.core.files.base import ContentFile


class FilesWrittenGuard:
    """Remembers files saved inside its block and deletes them if the block fails, so a
    rolled-back close leaves no orphaned PDF behind.

        with FilesWrittenGuard() as files, transaction.atomic():
            files.save(permit.pdf, "OCC-2026-0007.pdf", pdf_bytes)
    """

    def __init__(self):
        self._written: list[tuple[object, str]] = []

    def save(self, field_file, name: str, content: bytes) -> str:
        field_file.save(name, ContentFile(content), save=False)
        self._written.append((field_file.storage, field_file.name))
        return field_file.name

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for storage, name in self._written:
                storage.delete(name)
        return False
