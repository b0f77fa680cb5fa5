"""Decoding photos for recognition: big JPEGs are decoded at a reduced scale, never below the model's input,
with the photo's own (EXIF-rotated) size kept for the boxes."""

from __future__ import annotations

import io

from PIL import Image

from api.recognition.images import decode


def photo(size: tuple[int, int], fmt: str = "JPEG", **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, format=fmt, **save)
    return buffer.getvalue()


def test_a_big_jpeg_is_decoded_small_but_keeps_its_size() -> None:
    decoded = decode(photo((1600, 1200)), 0, model_side=128)
    assert decoded.size == (1600, 1200) and decoded.image.size == (200, 150)  # 1/8: still >= 128 on the long side
    assert decoded.scale == (8.0, 8.0)
    assert decode(photo((1600, 1200)), 0, model_side=640).image.size == (800, 600)  # 1/2, not 1/4 (400 < 640)


def test_exif_rotation_applies_to_size_and_reduced_image() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode(photo((1600, 1200), exif=exif.tobytes()), 0, model_side=128)
    assert decoded.size == (1200, 1600) and decoded.image.size == (150, 200)


def test_small_photos_pngs_and_no_model_side_decode_in_full() -> None:
    assert decode(photo((200, 150)), 0, model_side=128).image.size == (200, 150)
    assert decode(photo((1600, 1200), "PNG"), 0, model_side=128).image.size == (1600, 1200)
    full = decode(photo((1600, 1200)), 0)
    assert full.image.size == full.size == (1600, 1200) and full.scale == (1.0, 1.0)


def test_boxes_of_a_photo_over_2048_px_land_where_the_objects_are(tmp_path) -> None:  # noqa: ANN001
    """The annotated image is drawn on the decoded (reduced) photo; boxes are in the photo's own pixels."""
    import io as _io

    from PIL import Image as _Image

    from api.recognition.files import RecognitionFiles

    files = RecognitionFiles(tmp_path)
    files.folder(1).mkdir(parents=True)
    buffer = _io.BytesIO()
    _Image.new("RGB", (4096, 3072), "white").save(buffer, format="JPEG")
    (files.folder(1) / "0.original.jpg").write_bytes(buffer.getvalue())
    box = [2048.0, 1536.0, 3072.0, 2304.0]  # the lower right quarter's top-left region, in photo pixels
    result = {"verdict": "unchecked", "found": 1, "expected": None, "missing": {}, "extra": {}, "counts": {"square": 1},
              "detections": [{"class_id": 0, "name": "square", "confidence": 0.9, "box": box}]}
    drawn = _Image.open(files.annotated(1, 0, result)).convert("RGB")
    scale = 4096 / drawn.width
    on_edge = drawn.getpixel((int(2560 / scale), int(box[1] / scale) + 1))  # the top edge's middle
    where_unscaled = drawn.getpixel((min(drawn.width - 1, 2560), min(drawn.height - 1, 1537)))
    assert on_edge != (255, 255, 255) and where_unscaled == (255, 255, 255)
