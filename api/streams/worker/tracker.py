"""Ultralytics `track(persist=True)` on one frame at a time, with the stream's live settings.

conf, iou, classes and the ROI are arguments of each call, so a change applies on the next frame. A new tracker
kind or model starts a fresh predictor (and so fresh track ids): Ultralytics registers its trackers on the first
call of a predictor."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Track:
    id: int
    cls: int
    name: str
    conf: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in 0..1 of the whole frame

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True, slots=True)
class StageTimes:
    inference_ms: float
    tracking_ms: float


class ModelNotUsable(Exception):
    """The model cannot track (not a detection model, or it does not load)."""


def load_model(path: str, threads: int) -> Any:
    import torch
    from ultralytics import YOLO

    try:
        model = YOLO(path, task="detect")
    except Exception as exc:  # noqa: BLE001 - any load failure is reported as such, the worker keeps running
        raise ModelNotUsable(f"the model does not load: {type(exc).__name__}") from None
    if model.task != "detect":
        raise ModelNotUsable(f"a {model.task} model cannot track objects; use a detection model")
    model.predict(np.zeros((64, 64, 3), np.uint8), imgsz=64, verbose=False)  # set-up costs now, not on frame 1
    torch.set_num_threads(threads)  # after the first predict: its select_device() resets the thread count
    return model


class Tracker:
    def __init__(self, model: Any, tracker_kind: str) -> None:
        self.model = model
        self.names: dict[int, str] = dict(model.names)
        self.tracker_kind = tracker_kind

    def reset(self, tracker_kind: str) -> None:
        """A new tracker kind: a fresh predictor registers it (track ids start again)."""
        self.tracker_kind = tracker_kind
        self.model.predictor = None

    def class_ids(self, names: list[str] | None) -> list[int] | None:
        if names is None:
            return None
        wanted = set(names)
        return [index for index, name in self.names.items() if name in wanted]

    def track(self, image: np.ndarray, settings: dict[str, Any]) -> tuple[list[Track], StageTimes]:
        height, width = image.shape[:2]
        roi = settings.get("roi")
        x0 = y0 = 0
        if roi:  # search only the region; boxes come back in whole-frame coordinates
            x0, y0 = int(roi[0] * width), int(roi[1] * height)
            x1, y1 = max(x0 + 1, int(roi[2] * width)), max(y0 + 1, int(roi[3] * height))
            image = image[y0:y1, x0:x1]
        classes = self.class_ids(settings.get("classes"))
        if classes == []:  # none of the wanted names is one of the model's: nothing to find
            return [], StageTimes(0.0, 0.0)
        started = time.perf_counter()
        result = self.model.track(image, persist=True, tracker=f"{self.tracker_kind}.yaml", conf=settings["conf"],
                                  iou=settings["iou"], classes=classes, device=_device(settings.get("device")),
                                  verbose=False)[0]
        total_ms = (time.perf_counter() - started) * 1000
        speed = result.speed or {}
        inference_ms = sum(speed.get(k) or 0.0 for k in ("preprocess", "inference", "postprocess"))
        boxes = result.boxes
        tracks: list[Track] = []
        if boxes is not None and boxes.id is not None:
            for track_id, cls, conf, box in zip(boxes.id.int().tolist(), boxes.cls.int().tolist(),
                                                boxes.conf.tolist(), boxes.xyxy.tolist(), strict=True):
                tracks.append(Track(
                    id=track_id, cls=cls, name=self.names.get(cls, str(cls)), conf=round(conf, 4),
                    box=(_unit((box[0] + x0) / width), _unit((box[1] + y0) / height),
                         _unit((box[2] + x0) / width), _unit((box[3] + y0) / height))))
        return tracks, StageTimes(inference_ms, max(0.0, total_ms - inference_ms))


def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 5)


def _device(device: str | None) -> str | None:
    if device in (None, "auto"):
        return None
    return device
