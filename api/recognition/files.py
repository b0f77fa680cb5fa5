"""The files of recognitions: originals written with the row, annotated JPEGs drawn on first request."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from api.core.errors import NotFound
from api.recognition.images import DecodedImage, annotate, decode


def caption(result: dict[str, Any]) -> str:
    """The verdict line drawn on an annotated image."""
    if result["verdict"] == "complete":
        return f"complete {result['found']}/{result['expected']}" if result.get("expected") is not None else "complete"
    if result["verdict"] == "incomplete":
        missing = ", ".join(f"{name} x{n}" for name, n in result["missing"].items())
        extra = ", ".join(f"{name} x{n}" for name, n in result["extra"].items())
        return "incomplete: " + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                                       f"extra {extra}" if extra else "") if p)
    return ", ".join(f"{name} x{n}" for name, n in result["counts"].items()) or "nothing found"


class RecognitionFiles:
    """One folder per recognition under `root`: `{n}.original.{ext}` and, once asked for, `{n}.jpg` and the
    explanations `{n}.explain.jpg`, `{n}.explain.{k}.jpg` (explanations.py); the folder goes as a whole."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def staging_folder(self) -> Path:
        return self.root / f".staging-{time.time_ns()}-{threading.get_ident()}"

    @staticmethod
    def write_originals(folder: Path, images: list[DecodedImage], uploads: list[bytes]) -> None:
        folder.mkdir(parents=True)
        for index, (image, raw) in enumerate(zip(images, uploads, strict=True)):
            (folder / f"{index}.original.{image.extension}").write_bytes(raw)

    def folder(self, recognition_id: int) -> Path:
        return self.root / str(recognition_id)

    def original(self, recognition_id: int, index: int) -> Path:
        found = sorted(self.folder(recognition_id).glob(f"{index}.original.*"))
        if not found:
            raise NotFound("The image is no longer stored (removed by the retention setting).",
                           code="image_not_found")
        return found[0]

    def annotated(self, recognition_id: int, index: int, result: dict[str, Any]) -> Path:
        """The annotated JPEG, drawn from the original and the stored detections the first time (blocking)."""
        target = self.folder(recognition_id) / f"{index}.jpg"
        if target.exists():
            return target
        source = self.original(recognition_id, index)
        decoded = decode(source.read_bytes(), index)
        sx, sy = decoded.scale  # boxes are in the photo's pixels; a photo over 2048 px was decoded smaller
        detections = [{**d, "box": [d["box"][0] / sx, d["box"][1] / sy, d["box"][2] / sx, d["box"][3] / sy]}
                      for d in result["detections"]]
        jpeg = annotate(decoded.image, detections, caption(result))
        partial = target.with_suffix(f".{threading.get_ident()}.part")
        partial.write_bytes(jpeg)
        os.replace(partial, target)  # atomic: a concurrent reader sees the whole file or none
        return target

    def remove(self, recognition_id: int) -> None:
        shutil.rmtree(self.folder(recognition_id), ignore_errors=True)
