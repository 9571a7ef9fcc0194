"""Validate and normalise inspection photos uploaded from the field.

Photos are untrusted input: anything a browser can send ends up here. We therefore
decode only the four formats phones actually produce, refuse oversized or
pathological files before Pillow allocates pixel memory, and publish nothing of the
original file: the stored photo is a fresh JPEG with every metadata block (EXIF, GPS,
XMP, ICC, comments) dropped, so an inspector's home location or device serial never
leaks into a public record.
"""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime

import pillow_heif
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

# Registering is global and idempotent; doing it at import means the "HEIF" format
# exists before the first upload is opened.
pillow_heif.register_heif_opener()

# Pillow format ids passed to Image.open(formats=...). Anything else (PDF, SVG, GIF,
# TIFF, BMP, EPS, ...) is never handed to a parser, whatever its name or extension.
# JPEG also covers MPO (multi-picture JPEGs some phones write); pillow-heif's "HEIF"
# covers .heic and .heif.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")

MAX_SIDE = 3000
THUMBNAIL_SIDE = 400
JPEG_QUALITY = 85

NOT_AN_IMAGE = _("This file is not a JPEG, PNG, WebP or HEIC image.")
EMPTY = _("The file is empty.")
DAMAGED = _("The photo is damaged or incomplete and could not be read.")

# Everything a malformed file can make Pillow or a codec raise while parsing or
# decoding. UnidentifiedImageError (an OSError) is handled separately before these.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    EOFError,
    struct.error,
    RuntimeError,
    MemoryError,
)


class PhotoRejected(Exception):
    """The upload is not an acceptable photo; str(exc) is shown to the user."""


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    taken_at: datetime | None


def process_photo(upload, *, max_bytes: int, max_pixels: int) -> ProcessedPhoto:
    """Return a clean JPEG and thumbnail for `upload`, or raise PhotoRejected.

    `upload` is a Django UploadedFile. Its name and content type are ignored: only
    the bytes decide what the file is.
    """
    data = _read_limited(upload, max_bytes)
    too_many_pixels = gettext("The photo has more than %(megapixels)s megapixels.") % {
        "megapixels": _decimal(f"{max_pixels / 1_000_000:g}")
    }

    # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; make the warning an
    # error so a bomb aborts inside Image.open. catch_warnings is process-global and
    # not thread-safe, but our own width*height check below refuses the same files,
    # so a race can only turn the refusal into a logged warning plus that check.
    with warnings.catch_warnings(), _strict_truncation():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # verify() catches structural damage (e.g. PNG CRCs) cheaply, but leaves
            # the image unusable, hence the second open. load() on that one decodes
            # every pixel, which is the only way to find truncated data.
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as probe:
                _check_pixels(probe, max_pixels, too_many_pixels)
                probe.verify()
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as im:
                _check_pixels(im, max_pixels, too_many_pixels)
                if im.format in ("JPEG", "MPO"):
                    # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the result is
                    # still >= MAX_SIDE: same pixels we keep, a fraction of the memory.
                    # Not used for HEIF, where draft() swaps in an embedded thumbnail
                    # that need not match the main image.
                    im.draft("RGB", (MAX_SIDE, MAX_SIDE))
                im.load()
                taken_at = _taken_at(im)
                rgb = _to_rgb(_upright(im))
        except UnidentifiedImageError:
            raise PhotoRejected(str(NOT_AN_IMAGE)) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(too_many_pixels) from None
        except _DECODE_ERRORS:
            raise PhotoRejected(str(DAMAGED)) from None

    # convert()/transpose() copy .info, and the JPEG encoder writes info["comment"]
    # back out; start the output with no metadata at all.
    rgb.info = {}
    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = rgb.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        image=_encode_jpeg(rgb),
        thumbnail=_encode_jpeg(thumb),
        width=rgb.width,
        height=rgb.height,
        taken_at=taken_at,
    )


def photo_pixels(upload) -> int:
    """Width × height as the file's header states them, read without decoding a pixel (for
    the per-request budget, checked before any photo is decoded); 0 for a file that is not
    an image we accept: process_photo refuses it with its own message."""
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload, formats=ALLOWED_FORMATS) as probe:
                return probe.width * probe.height
    except Exception:  # anything unreadable: not ours to judge here
        return 0
    finally:
        upload.seek(0)


def photos_over_pixel_budget(uploads, budget: int) -> list[str]:
    """The names of the uploads that take the request past `budget` pixels in total, in the
    order given (empty when all fit): decoding is what costs memory and time, so a request
    may decode at most `budget` pixels whatever its files' sizes in bytes."""
    total, over = 0, []
    for upload in uploads:
        total += photo_pixels(upload)
        if total > budget:
            over.append(upload.name)
    return over


_truncation_lock = threading.Lock()


@contextlib.contextmanager
def _strict_truncation():
    """Refuse truncated images while decoding an upload.

    WeasyPrint sets Pillow's process-wide ImageFile.LOAD_TRUNCATED_IMAGES = True when it
    is imported, which would let a half-uploaded photo through as a grey-bottomed image.
    The flag is global, so photos are decoded one at a time with it off; the images
    WeasyPrint renders meanwhile are our own complete JPEGs, unaffected by it.
    """
    with _truncation_lock:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _read_limited(upload, max_bytes: int) -> bytes:
    # Read at most one byte past the limit instead of trusting upload.size, so a
    # misreported size can neither let a huge file through nor exhaust memory.
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if not data:
        raise PhotoRejected(str(EMPTY))
    if len(data) > max_bytes:
        raise PhotoRejected(
            gettext("The photo is larger than %(size)s.") % {"size": _human_size(max_bytes)}
        )
    return data


def _decimal(number: str) -> str:
    """A number written with a point, with the active language's decimal separator."""
    return number.replace(".", get_format("DECIMAL_SEPARATOR"))


def _human_size(n: int) -> str:
    for unit, factor in ((gettext("MB"), 1024**2), (gettext("KB"), 1024)):
        if n >= factor:
            return _decimal(f"{n / factor:.1f}".removesuffix(".0")) + f" {unit}"
    return gettext("%(count)s bytes") % {"count": n}


def _check_pixels(im: Image.Image, max_pixels: int, message: str) -> None:
    # The size comes from the header; nothing has been decoded or allocated yet.
    width, height = im.size
    if width <= 0 or height <= 0:
        raise PhotoRejected(str(DAMAGED))
    if width * height > max_pixels:
        raise PhotoRejected(message)


def _upright(im: Image.Image) -> Image.Image:
    # Phones store pixels sideways and set EXIF Orientation; bake it into the pixels
    # because the metadata is about to be dropped. A broken EXIF block is not a
    # reason to refuse the photo, so fall back to the pixels as stored.
    try:
        return ImageOps.exif_transpose(im)
    except _DECODE_ERRORS:
        return im


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        # 16-bit greyscale: convert("L") would clip everything above 255 to white.
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif im.mode == "F":
        im = im.convert("L")

    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        im.mode == "P" and "transparency" in im.info
    ):
        # JPEG has no alpha; transparent areas become white, as on a printed page.
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        im = background.convert("RGB")
        # The ICC profile (if any) still describes these colours.
        im.info["icc_profile"] = rgba.info.get("icc_profile")

    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "CMYK", "L"):
        # Wide-gamut (Display P3) or CMYK photos look wrong once their profile is
        # dropped, so map the colours to sRGB, which is what viewers assume.
        try:
            return ImageCms.profileToProfile(
                im,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, *_DECODE_ERRORS):
            pass  # Unusable profile: keep the raw values rather than refuse the photo.
    return im if im.mode == "RGB" else im.convert("RGB")


def _taken_at(im: Image.Image) -> datetime | None:
    # DateTimeOriginal has no zone; inspectors photograph sites in the municipality,
    # so read it as settings.TIME_ZONE (the default zone, not a per-request one).
    try:
        raw = im.getexif().get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
        if isinstance(raw, bytes):
            raw = raw.decode("ascii")
        if not isinstance(raw, str):
            return None
        naive = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except (*_DECODE_ERRORS, UnicodeDecodeError):
        return None  # Absent, blank ("    :  :  ") or malformed: unknown, not fatal.
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _encode_jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    # No exif/icc_profile/xmp/comment arguments: the encoder writes only JFIF.
    im.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()
