"""The import reads its file line by line: an upload or a file on disk is never read whole,
whatever its size; line endings and encodings read as before."""

import io

import pytest

from core.models import Municipality
from permits.models import Application
from tests.conftest import client_for, make_user
from tests.exchange.test_import import HEADER, burlington_csv, burlington_row, run_import
from tests.exchange.test_import_admin import check, committed, import_button

IMPORT_URL = "/admin/permits/application/import/"


@pytest.fixture
def burlington(db):
    return Municipality.objects.create(slug="burlington", name="City of Burlington")


class RecordedReads(io.BytesIO):
    """A binary file that remembers how much each read asked for."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size=-1, /):
        self.asked.append(len(self.getbuffer()) if size is None or size < 0 else size)
        return super().read(size)

    def read1(self, size=-1, /):
        self.asked.append(len(self.getbuffer()) if size is None or size < 0 else size)
        return super().read1(size)

    def readinto(self, buffer, /):
        self.asked.append(len(buffer))
        return super().readinto(buffer)


def test_a_file_is_read_in_small_pieces_never_whole(burlington):
    data = burlington_csv(*[burlington_row(f"24-{n:06}") for n in range(8_000)])
    source = RecordedReads(data)

    report = run_import(burlington, source)

    assert report.created == 8_000
    assert len(data) > 700_000 and max(source.asked) <= 64 * 1024
    assert not source.closed  # the caller's file, left open


def test_old_mac_line_endings_and_a_quoted_line_break_are_read(burlington):
    rows = [burlington_row("24-000001"), burlington_row("24-000002", use='"Deck\r\nand stairs"')]
    report = run_import(burlington, "\r".join([HEADER, *rows]).encode())

    assert (report.created, report.rejected) == (2, [])
    assert Application.objects.get(number="24-000002").description == (
        "SF New Single Detached Dwelling – Deck and stairs – New"
    )


def test_an_upload_kept_in_a_temporary_file_is_checked_and_imported(
    burlington, settings, admin_user
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # larger uploads go to a temporary file
    data = burlington_csv(*[burlington_row(f"24-{n:06}") for n in range(50)])
    admin = client_for(make_user("root", is_staff=True, is_superuser=True))

    page = check(admin, burlington, data).content.decode()
    assert "50 applications would be created" in page
    committed(admin.post, import_button(page))

    assert Application.objects.filter(municipality=burlington).count() == 50
