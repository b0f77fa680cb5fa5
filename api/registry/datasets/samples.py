"""One image of a dataset with its labels drawn, as JPEG (for the API and the bot)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from api.core.errors import NotFound
from api.registry.datasets.schemas import Task
from api.registry.datasets.validation import IMAGE_SUFFIXES

PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128))
MIN_SIDE = 480  # small training images are upscaled so the drawing is legible on a phone
MAX_SIDE = 1600  # and nothing is drawn larger: an upscale must never multiply a thin strip into gigabytes


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _ordered_images(root: Path, task: Task) -> list[Path]:
    splits = ("train", "val", "test")
    if task == "detect":
        return [image for split in splits for image in _images(root / "images" / split)]
    return [image for split in splits for image in _images(root / split)]


def legible_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)
    except (OSError, ImportError):
        return ImageFont.load_default()


def render_sample(root: Path, task: Task, classes: list[str], index: int) -> bytes:
    images = _ordered_images(root, task)
    if not 0 <= index < len(images):
        raise NotFound(f"Sample {index} does not exist; the dataset has {len(images)} images (0..{len(images) - 1}).",
                       code="sample_not_found", details={"count": len(images)})
    path = images[index]
    with Image.open(path) as original:
        width, height = original.size
        scale = min(max(1.0, MIN_SIDE / max(1, min(width, height))), MAX_SIDE / max(width, height))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        original.draft("RGB", size)  # JPEG: decode at reduced scale when shrinking
        image = original.resize(size) if original.size != size else original.copy()
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    font = legible_font(max(14, image.height // 28))
    if task == "detect":
        label = root / "labels" / path.parent.name / (path.stem + ".txt")
        lines = label.read_text().splitlines() if label.is_file() else []
        for line in filter(str.strip, lines):
            cls, cx, cy, w, h = line.split()
            colour = PALETTE[int(cls) % len(PALETTE)]
            x0, y0 = (float(cx) - float(w) / 2) * image.width, (float(cy) - float(h) / 2) * image.height
            x1, y1 = x0 + float(w) * image.width, y0 + float(h) * image.height
            draw.rectangle((x0, y0, x1, y1), outline=colour, width=3)
            draw.text((x0 + 3, max(0, y0 - font.size - 4)), classes[int(cls)], fill=colour, font=font,
                      stroke_width=2, stroke_fill=(0, 0, 0))
    else:
        draw.text((8, 8), path.parent.name, fill=(255, 255, 255), font=font, stroke_width=3, stroke_fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()
