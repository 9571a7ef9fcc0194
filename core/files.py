"""Issued documents written so that the files always match the database, also after a crash.

A document (permit, inspection report, revocation notice) is written inside the transaction
that creates its row, but under a temporary name, `<final name>.pending-<random>`; the row
stores the final name. Only when the transaction has committed is the file renamed to its
final name (an atomic rename on the same file system). So:

- a close that fails or whose worker is killed before the commit leaves at most a pending
  file that no row references: it is never visible under a document's name, and the next
  document with that number (numbers are reused after a rollback, gapless) gets the free
  final name, never a suffixed one beside a stranger's permit;
- a worker killed between the commit and the rename leaves a row whose final file is missing
  and its pending file; `recover_documents` (run before the server starts, and by
  `verify_records --repair`) finishes the rename when the pending file's SHA-256 is the one
  the row recorded, and removes pending files no row is waiting for.

A final name that already exists is refused (DocumentNameTaken), never overwritten and never
suffixed: something is on disk that no committed write put there, and a person must look.
"""

import hashlib
import io
import logging
import os
import secrets

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

PENDING_MARK = ".pending-"


class DocumentNameTaken(Exception):
    """A document's final file name is already on disk; nothing is written over it."""


def pending_target(name: str) -> str | None:
    """The final name a pending file is waiting to become, or None for any other file."""
    final, mark, token = name.rpartition(PENDING_MARK)
    return final if mark and final and token.isalnum() else None


def publish(storage, pending: str, final: str) -> None:
    """Give a written pending file its final name (atomic on a local file system)."""
    try:
        source, target = storage.path(pending), storage.path(final)
    except NotImplementedError:  # a bucket (config.storage): copy, then remove
        # Not atomic, but the name is taken only once the whole copy is stored. A final name
        # already there is never overwritten nor suffixed: the pending file stays for
        # verify_records and a person to look at.
        if storage.exists(final):
            raise FileExistsError(f"{final} is already stored; {pending} was kept") from None
        with storage.open(pending, "rb") as handle:
            saved = storage.save(final, handle)
        if saved != final:  # taken meanwhile: the storage chose another name
            storage.delete(saved)
            raise FileExistsError(f"{final} is already stored; {pending} was kept") from None
        storage.delete(pending)
        return
    os.replace(source, target)


def transaction_committed() -> bool:
    """True when the enclosing transaction has committed: no atomic block is open, or only
    the one a test case wraps every test in (Django's own `durable` check allows for it)."""
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


class FilesWrittenGuard:
    """Writes documents inside a transaction under a pending name and gives them their final
    names once it commits; removes them again if the block fails.

        with FilesWrittenGuard() as files, transaction.atomic():
            files.save(permit.pdf, "alpha/OCC-2026-0007.pdf", pdf_bytes)
            permit.save()  # the row stores occupancy/2026/alpha/OCC-2026-0007.pdf

    The guard must enclose the transaction (entered before it, left after it): leaving it
    without an error publishes the files, at once if the transaction committed, or when an
    outer transaction commits.
    """

    def __init__(self):
        self._written: list[tuple[object, str, str]] = []

    def save(self, field_file, name: str, content: bytes) -> str:
        storage = field_file.storage
        final = field_file.field.generate_filename(field_file.instance, name)
        if storage.exists(final) or any(
            written_final == final for _, _, written_final in self._written
        ):
            raise DocumentNameTaken(
                f"A file named {final} is already stored; nothing was written over it. "
                "Run verify_records and call support."
            )
        pending = storage.save(f"{final}{PENDING_MARK}{secrets.token_hex(8)}", ContentFile(content))
        self._written.append((storage, pending, final))
        field_file.name = final
        return final

    def _publish(self) -> None:
        for storage, pending, final in self._written:
            try:
                publish(storage, pending, final)
            except OSError:
                # The rows are committed; recover_documents finishes the rename later.
                logger.exception(
                    "Could not publish %s as %s; run manage.py recover_documents", pending, final
                )

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for storage, pending, _ in self._written:
                storage.delete(pending)
        elif transaction_committed():
            self._publish()
        else:
            transaction.on_commit(self._publish)
        return False


def stored_document_response(field_file, *, sha256: str, filename: str) -> HttpResponse:
    """A stored legal document (permit, inspection report, notice), served only when its bytes
    still have the SHA-256 recorded when it was written: a file changed on disk or in the
    bucket is never handed out as the record."""
    with field_file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != sha256:
        logger.error("Stored document %s does not match its recorded SHA-256", field_file.name)
        return HttpResponse(
            gettext(
                "This document no longer matches the copy recorded when it was issued, so it is "
                "not served. The administrator has been told (see verify_records)."
            ),
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    response = FileResponse(io.BytesIO(data), content_type="application/pdf", filename=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
