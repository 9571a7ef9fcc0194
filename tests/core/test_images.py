"""core.images: untrusted uploads in, clean JPEGs out.

Every fixture is generated in memory with Pillow so the tests document exactly what
each input contains.
"""

import io
import struct
import zlib
from datetime import UTC, datetime

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, ImageFile

from core.images import (
    DAMAGED,
    EMPTY,
    NOT_AN_IMAGE,
    PhotoRejected,
    ProcessedPhoto,
    process_photo,
)

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def process(data: bytes, name: str = "photo.jpg", **limits) -> ProcessedPhoto:
    limits = {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, **limits}
    return process_photo(upload(data, name), **limits)


def rejected(data: bytes, name: str = "photo.jpg", **limits) -> str:
    with pytest.raises(PhotoRejected) as exc_info:
        process(data, name, **limits)
    return str(exc_info.value)


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def halves(size=(300, 200), left=(255, 0, 0), right=(0, 0, 255), mode="RGB") -> Image.Image:
    """Left half one colour, right half another, so rotation is visible in the pixels."""
    img = Image.new(mode, size, right)
    img.paste(left, (0, 0, size[0] // 2, size[1]))
    return img


def decoded(data: bytes) -> Image.Image:
    """Open an output and check the invariants every output must satisfy."""
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert img.mode == "RGB"
    assert len(img.getexif()) == 0
    for key in ("exif", "icc_profile", "xmp", "comment", "photoshop"):
        assert key not in img.info, key
    assert b"Exif\x00\x00" not in data
    assert b"ns.adobe.com/xap" not in data
    return img


def close_to(actual, expected, tolerance=12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def tiny_png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds only a few bytes of pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel data gets decoded (i.e. memory for it allocated)."""

    def load(self):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


# --- accepted formats ------------------------------------------------------------


def test_jpeg_orientation_applied_and_all_metadata_stripped(settings):
    settings.TIME_ZONE = "America/Vancouver"
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: rotate 90 degrees clockwise
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:06 14:30:00"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (43.0, 39.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: (79.0, 22.0, 48.0),
        }
    )
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        halves(),
        "JPEG",
        exif=exif,
        icc_profile=srgb,
        comment=b"inspector home address",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:xmp="http://ns.adobe.com/xap/1.0/"/></x:xmpmeta>',
    )
    # The input really carries what we expect to be removed.
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert {"exif", "icc_profile", "comment", "xmp"} <= source.info.keys()

    photo = process(data)

    img = decoded(photo.image)
    assert (photo.width, photo.height) == img.size == (200, 300)  # swapped by rotation
    # Rotated clockwise, the stored left (red) half is now on top.
    assert close_to(img.getpixel((100, 20)), (255, 0, 0), 40)
    assert close_to(img.getpixel((100, 280)), (0, 0, 255), 40)
    for data_ in (photo.image, photo.thumbnail):
        assert b"PhoneCo" not in data_
        assert b"inspector home address" not in data_
    assert photo.taken_at == datetime(2024, 5, 6, 21, 30, tzinfo=UTC)  # 14:30 PDT
    assert photo.taken_at.tzinfo is not None


def test_jpeg_comment_is_not_copied_without_icc_profile():
    # Without an ICC profile no colour conversion creates a fresh image, so the
    # comment would survive in .info unless it is cleared explicitly.
    data = encode(halves(), "JPEG", comment=b"inspector home address")
    assert Image.open(io.BytesIO(data)).info["comment"] == b"inspector home address"
    photo = process(data)
    for output in (photo.image, photo.thumbnail):
        decoded(output)
        assert b"inspector home address" not in output


@pytest.mark.parametrize("value", ["    :  :     :  :  ", "2024:13:45 99:00:00", "yesterday"])
def test_invalid_date_taken_is_none(value):
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = value
    assert process(encode(halves(), "JPEG", exif=exif)).taken_at is None


def test_no_exif_gives_no_date_and_keeps_size():
    photo = process(encode(halves(), "JPEG"))
    assert photo.taken_at is None
    assert (photo.width, photo.height) == decoded(photo.image).size == (300, 200)


def test_png_alpha_is_composited_onto_white():
    img = Image.new("RGBA", (300, 200), (0, 0, 0, 0))  # fully transparent black
    img.paste((200, 0, 0, 255), (150, 0, 300, 200))  # opaque red right half
    photo = process(encode(img, "PNG"), name="scan.png")
    out = decoded(photo.image)
    assert close_to(out.getpixel((20, 100)), (255, 255, 255))
    assert close_to(out.getpixel((280, 100)), (200, 0, 0))


def test_palette_png_with_transparency_is_composited_onto_white():
    img = Image.new("P", (100, 100), 0)
    img.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    img.paste(1, (50, 0, 100, 100))
    out = decoded(process(encode(img, "PNG", transparency=0)).image)
    assert close_to(out.getpixel((10, 50)), (255, 255, 255))
    assert close_to(out.getpixel((90, 50)), (0, 128, 0))


def test_16_bit_greyscale_png_is_scaled_not_clipped():
    img = Image.new("I;16", (64, 64), 128 * 256)  # mid grey in 16 bits
    out = decoded(process(encode(img, "PNG")).image)
    assert close_to(out.getpixel((32, 32)), (128, 128, 128), 3)


def test_cmyk_jpeg_becomes_rgb():
    img = Image.new("CMYK", (80, 60), (0, 255, 255, 0))  # red in CMYK
    out = decoded(process(encode(img, "JPEG")).image)
    assert close_to(out.getpixel((40, 30)), (255, 0, 0), 40)


def test_webp_is_accepted():
    photo = process(encode(halves(), "WEBP", quality=90), name="photo.webp")
    out = decoded(photo.image)
    assert out.size == (300, 200)
    assert close_to(out.getpixel((20, 100)), (255, 0, 0), 40)


def test_heic_is_accepted_and_orientation_applied():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(halves(), "HEIF", exif=exif.tobytes(), quality=90)
    assert Image.open(io.BytesIO(data)).format == "HEIF"  # really encoded as HEIC

    photo = process(data, name="IMG_0001.HEIC")

    out = decoded(photo.image)
    assert (photo.width, photo.height) == out.size == (200, 300)
    assert close_to(out.getpixel((100, 20)), (255, 0, 0), 50)


def test_name_and_content_type_are_ignored():
    png = encode(halves(), "PNG")
    photo = process_photo(
        upload(png, "report.pdf", "application/pdf"), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS
    )
    assert decoded(photo.image).size == (300, 200)


# --- sizes -----------------------------------------------------------------------


def test_thumbnail_longest_side_is_400():
    photo = process(encode(halves((1200, 800)), "JPEG"))
    thumb = decoded(photo.thumbnail)
    assert max(thumb.size) == 400
    assert thumb.size == (400, 267)


def test_large_photo_capped_at_3000():
    photo = process(encode(halves((4000, 3000)), "JPEG"))
    assert (photo.width, photo.height) == decoded(photo.image).size == (3000, 2250)
    assert max(decoded(photo.thumbnail).size) == 400


def test_tall_png_capped_at_3000():
    photo = process(encode(halves((1000, 4000), mode="L", left=0, right=255), "PNG"))
    assert (photo.width, photo.height) == (750, 3000)


# --- refused files ---------------------------------------------------------------


def test_pdf_named_jpg_is_refused():
    pdf = encode(halves(), "PDF")  # a real PDF, even with a JPEG inside
    assert pdf.startswith(b"%PDF")
    assert rejected(pdf, "photo.jpg") == NOT_AN_IMAGE


@pytest.mark.parametrize(
    "text",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
    ],
    ids=["html", "svg", "eps"],
)
def test_text_named_jpg_is_refused(text):
    assert rejected(text, "photo.jpg") == NOT_AN_IMAGE


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP", "ICO"])
def test_other_image_formats_are_refused(fmt):
    assert rejected(encode(halves((64, 64)), fmt), "photo.jpg") == NOT_AN_IMAGE


def test_truncated_jpeg_is_refused():
    noise = Image.effect_noise((400, 300), 80).convert("RGB")
    data = encode(noise, "JPEG", quality=95)
    assert rejected(data[: len(data) // 2]) == DAMAGED


def test_png_with_corrupt_pixel_data_is_refused():
    data = bytearray(encode(Image.effect_noise((64, 64), 80), "PNG"))
    data[data.index(b"IDAT") + 10] ^= 0xFF
    assert rejected(bytes(data), "photo.png") == DAMAGED


def test_png_with_bad_checksum_only_is_refused():
    # Intact pixels, wrong IDAT CRC: load() would accept this, only verify() notices.
    data = bytearray(encode(Image.effect_noise((64, 64), 80), "PNG"))
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    data[idat + 4 + length] ^= 0xFF
    assert rejected(bytes(data), "photo.png") == DAMAGED


def test_empty_file_is_refused():
    assert rejected(b"") == EMPTY


def test_file_over_max_bytes_is_refused_before_decoding(no_decoding):
    assert rejected(b"\xff\xd8\xff" + b"\x00" * MAX_BYTES) == "The photo is larger than 20 MB."


def test_file_of_exactly_max_bytes_is_accepted():
    data = encode(halves(), "JPEG")
    assert process(data, max_bytes=len(data)).width == 300
    assert rejected(data, max_bytes=len(data) - 1).startswith("The photo is larger than ")


@pytest.mark.parametrize(
    "max_bytes, shown",
    [(500, "500 bytes"), (1536, "1.5 KB"), (5 * 1024 * 1024, "5 MB"), (2_500_000, "2.4 MB")],
)
def test_size_limit_message_follows_setting(max_bytes, shown):
    assert rejected(b"\x00" * (max_bytes + 1), max_bytes=max_bytes) == (
        f"The photo is larger than {shown}."
    )


@pytest.mark.parametrize(
    "size",
    [
        (8000, 8000),  # 64 MP: over our limit, under Pillow's own bomb threshold
        (10000, 10000),  # 100 MP: Pillow's DecompressionBombWarning, turned into an error
        (20000, 20000),  # 400 MP: Pillow's DecompressionBombError
    ],
)
def test_decompression_bomb_refused_without_decoding(no_decoding, size):
    data = tiny_png_header(*size)
    assert len(data) < 200
    assert rejected(data, "photo.png") == "The photo has more than 50 megapixels."


def test_real_decompression_bomb_png_is_refused():
    data = encode(Image.new("1", (10000, 10000)), "PNG")
    assert len(data) < 100_000  # 100 megapixels in a few kilobytes
    assert rejected(data, "photo.png") == "The photo has more than 50 megapixels."


def test_pixel_limit_message_follows_setting():
    data = encode(halves((300, 200)), "JPEG")
    assert rejected(data, max_pixels=50_000) == "The photo has more than 0.05 megapixels."
    assert process(data, max_pixels=60_000).width == 300


def test_heif_registration_is_in_place():
    # Guard against a refactor dropping register_heif_opener(): HEIC uploads would
    # then be refused as "not an image" and the HEIC test above would say why.
    assert "HEIF" in Image.OPEN
    assert pillow_heif.__version__


def test_truncated_jpeg_is_refused_even_after_weasyprint_was_imported():
    # WeasyPrint turns on Pillow's global LOAD_TRUNCATED_IMAGES when imported.
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    buffer = io.BytesIO()
    Image.effect_noise((800, 600), 64).convert("RGB").save(buffer, format="JPEG")
    data = buffer.getvalue()
    with pytest.raises(PhotoRejected, match="damaged or incomplete"):
        process_photo(
            SimpleUploadedFile("half.jpg", data[: len(data) // 2]),
            max_bytes=20 * 1024 * 1024,
            max_pixels=50_000_000,
        )
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
