"""The built-in `shapes` dataset: drawn squares, circles and triangles, generated deterministically."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SHAPE_CLASSES = ("square", "circle", "triangle")
IMAGE_SIZE = 128


def _background(rng: random.Random, size: int) -> Image.Image:
    top = tuple(rng.randint(0, 255) for _ in range(3))
    bottom = tuple(rng.randint(0, 255) for _ in range(3))
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for y in range(size):
        t = y / (size - 1)
        draw.line([(0, y), (size, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return image


def _contrasting_colour(rng: random.Random, background: tuple[int, ...]) -> tuple[int, int, int]:
    while True:
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        if sum(abs(a - b) for a, b in zip(colour, background, strict=True)) > 200:
            return colour


def _draw_shape(draw: ImageDraw.ImageDraw, cls: int, box: tuple[float, float, float, float], fill: tuple[int, ...]) -> None:
    x0, y0, x1, y1 = box
    if SHAPE_CLASSES[cls] == "square":
        draw.rectangle(box, fill=fill)
    elif SHAPE_CLASSES[cls] == "circle":
        draw.ellipse(box, fill=fill)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)


def _place(rng: random.Random, taken: list[tuple[float, ...]], size: int) -> tuple[float, float, float, float] | None:
    for _ in range(30):
        side = rng.uniform(size * 0.16, size * 0.38)
        x0, y0 = rng.uniform(2, size - side - 2), rng.uniform(2, size - side - 2)
        box = (x0, y0, x0 + side, y0 + side)
        if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in taken):
            return box
    return None


def _detection_image(rng: random.Random, size: int) -> tuple[Image.Image, list[str]]:
    image = _background(rng, size)
    draw = ImageDraw.Draw(image)
    labels, taken = [], []
    for _ in range(rng.randint(1, 4)):
        box = _place(rng, taken, size)
        if box is None:
            break
        cls = rng.randrange(len(SHAPE_CLASSES))
        _draw_shape(draw, cls, box, _contrasting_colour(rng, image.getpixel((int(box[0]), int(box[1])))))
        taken.append(box)
        cx, cy = (box[0] + box[2]) / 2 / size, (box[1] + box[3]) / 2 / size
        w, h = (box[2] - box[0]) / size, (box[3] - box[1]) / size
        labels.append(f"{cls} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return image.filter(ImageFilter.SMOOTH), labels


def _classification_image(rng: random.Random, cls: int, size: int) -> Image.Image:
    image = _background(rng, size)
    side = rng.uniform(size * 0.35, size * 0.7)
    cx, cy = rng.uniform(side / 2, size - side / 2), rng.uniform(side / 2, size - side / 2)
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    fill = _contrasting_colour(rng, image.getpixel((int(cx), int(cy))))
    _draw_shape(ImageDraw.Draw(image), cls, box, fill)
    return image.rotate(rng.uniform(-15, 15), fillcolor=image.getpixel((0, 0)))


def generate_detection(root: Path, *, train: int, val: int, seed: int = 0, size: int = IMAGE_SIZE) -> None:
    """YOLO detection layout: images/{train,val}/*.jpg and labels/{train,val}/*.txt."""
    rng = random.Random(seed)
    for split, count in (("train", train), ("val", val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image, labels = _detection_image(rng, size)
            image.save(root / "images" / split / f"{index:05d}.jpg", quality=92)
            (root / "labels" / split / f"{index:05d}.txt").write_text("\n".join(labels) + "\n")


def generate_classification(root: Path, *, train: int, val: int, seed: int = 0, size: int = IMAGE_SIZE) -> None:
    """Folder-per-class layout: {train,val}/<class>/*.jpg, `train`/`val` images per class."""
    rng = random.Random(seed + 1)
    for split, count in (("train", train), ("val", val)):
        for cls, name in enumerate(SHAPE_CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                _classification_image(rng, cls, size).save(folder / f"{index:05d}.jpg", quality=92)
