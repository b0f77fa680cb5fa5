"""Decoding uploaded photos safely (format, size and pixel caps, EXIF rotation) and drawing results."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from api.core.errors import UnsupportedMediaType, ValidationFailed
from api.registry.datasets.samples import PALETTE, legible_font
from api.registry.datasets.validation import MAX_ASPECT

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000
WORK_SIDE = 2048  # what a photo is reduced to (at most) right after decoding: the model letterboxes to ~640 anyway
REQUEST_PIXELS = 64_000_000  # decoded pixels one request may hold; many photos are each reduced further


def tiny_jpeg() -> bytes:
    """A 64 px JPEG to warm the decoder with at start-up."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 120, 120)).save(buffer, format="JPEG")
    return buffer.getvalue()


def work_side(count: int) -> int:
    """The longest side each of `count` photos of one request is reduced to."""
    return max(256, min(WORK_SIDE, int(math.sqrt(REQUEST_PIXELS / max(count, 1)))))


@dataclass
class DecodedImage:
    """`image` may be smaller than the photo (JPEG draft decoding); `size` is the photo's, EXIF-rotated."""

    image: Image.Image
    extension: str
    size: tuple[int, int] = (0, 0)

    @property
    def scale(self) -> tuple[float, float]:
        """Factors from `image` pixels to photo pixels."""
        return self.size[0] / self.image.width, self.size[1] / self.image.height


def _bad_image(index: int, reason: str) -> ValidationFailed:
    return ValidationFailed(f"Image {index}: {reason}.", code="invalid_image",
                            details={"image": index, "reason": reason})


def _looks_accepted(data: bytes) -> bool:
    return data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _draft(image: Image.Image, model_side: int | None) -> None:
    """A JPEG at least twice the model's input is decoded at 1/2, 1/4 or 1/8 scale (libjpeg DCT scaling),
    never below the model's input: the letterbox would throw those pixels away, and a 12 MP phone photo
    decodes ~10x faster."""
    width, height = image.size
    if image.format != "JPEG" or not model_side or max(width, height) < 2 * model_side:
        return
    ratio = model_side / max(width, height)
    image.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))  # libjpeg keeps at least this size


def probe(data: bytes, index: int) -> str:
    """The file extension of an accepted photo: the checks decode() makes from the header, nothing decoded."""
    return _open_checked(data, index)[1]


def decode(data: bytes, index: int, model_side: int | None = None, max_side: int = WORK_SIDE) -> DecodedImage:
    """RGB image with EXIF orientation applied; the pixel and aspect caps are checked from the header, before
    decoding. With `model_side` (the model's input size) a large JPEG is decoded at a reduced scale; any photo is
    then reduced to `max_side` before it is rotated and converted, so only one full-size copy ever exists."""
    image, extension = _open_checked(data, index)
    width, height = image.size
    try:
        orientation = image.getexif().get(0x0112, 1)
        _draft(image, model_side)
        image.load()
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        rotated = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _bad_image(index, f"truncated or corrupt ({type(exc).__name__})") from None
    size = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return DecodedImage(image=rotated, extension=extension, size=size)


def _open_checked(data: bytes, index: int) -> tuple[Image.Image, str]:
    """The photo opened (only its header read), with its extension, once format, pixel and aspect caps pass."""
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:  # UnidentifiedImageError, or ImportError from Ultralytics' patched Image.open (HEIF probe)
        if _looks_accepted(data):
            raise _bad_image(index, "truncated or corrupt") from None
        raise UnsupportedMediaType(f"Image {index} is not a JPEG, PNG or WebP image.", code="unsupported_image",
                                   details={"image": index}) from None
    if image.format not in ACCEPTED_FORMATS:
        raise UnsupportedMediaType(f"Image {index} is {image.format}; send JPEG, PNG or WebP.",
                                   code="unsupported_image", details={"image": index, "format": image.format})
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _bad_image(index, f"{width}x{height} pixels is over the {MAX_PIXELS} pixel cap")
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        raise _bad_image(index, f"{width}x{height} is more than {MAX_ASPECT} times longer than it is wide")
    return image, ACCEPTED_FORMATS[image.format]


def annotate(image: Image.Image, detections: list[dict], caption: str) -> bytes:
    """Boxes with names and confidences, thick enough to read on a phone; the verdict as a caption."""
    canvas = image.copy()
    draw = ImageDraw.Draw(canvas)
    side = max(canvas.size)
    width = max(2, side // 250)
    font = legible_font(max(14, side // 40))
    for detection in detections:
        colour = PALETTE[detection["class_id"] % len(PALETTE)]
        x0, y0, x1, y1 = detection["box"]
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
        label = f"{detection['name']} {detection['confidence']:.2f}"
        draw.text((x0 + width, max(0, y0 - font.size - width * 2)), label, fill=colour, font=font,
                  stroke_width=max(1, width // 2), stroke_fill=(0, 0, 0))
    draw.text((width * 3, canvas.height - font.size - width * 4), caption, fill=(255, 255, 255), font=font,
              stroke_width=max(2, width), stroke_fill=(0, 0, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()
