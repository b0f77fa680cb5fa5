"""The preview: the frame with each track's box, id and slot, the ROI, zones and lines drawn on it (OpenCV)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

_PALETTE = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
            (23, 204, 146), (134, 219, 61), (211, 188, 0), (209, 99, 0), (255, 56, 132), (203, 56, 255)]


def _px(point: Any, width: int, height: int) -> tuple[int, int]:
    return int(point[0] * width), int(point[1] * height)


def annotate(image: np.ndarray, tracks: list[dict[str, Any]], settings: dict[str, Any], quality: int = 80) -> bytes:
    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(min(width, height) / 300))
    scale = max(0.35, min(width, height) / 900)
    if settings.get("roi"):
        x1, y1, x2, y2 = settings["roi"]
        cv2.rectangle(canvas, _px((x1, y1), width, height), _px((x2, y2), width, height), (200, 200, 200), 1)
    for zone in settings.get("zones") or []:
        points = np.array([_px(p, width, height) for p in zone["points"]], np.int32)
        cv2.polylines(canvas, [points], True, (0, 215, 255), thickness)
    for line in settings.get("lines") or []:
        cv2.line(canvas, _px(line["start"], width, height), _px(line["end"], width, height), (255, 0, 255), thickness)
    for track in tracks:
        colour = _PALETTE[track["id"] % len(_PALETTE)]
        x1, y1, x2, y2 = track["box"]
        top_left, bottom_right = _px((x1, y1), width, height), _px((x2, y2), width, height)
        cv2.rectangle(canvas, top_left, bottom_right, colour, thickness)
        slot = f" p{track['slot']}" if track.get("slot") else ""
        label = f"#{track['id']} {track['name']} {track['conf']:.2f}{slot}"
        (text_w, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        y_text = max(text_h + 2, top_left[1] - 2)
        cv2.rectangle(canvas, (top_left[0], y_text - text_h - 2), (top_left[0] + text_w, y_text + 2), colour, -1)
        cv2.putText(canvas, label, (top_left[0], y_text), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return encoded.tobytes() if ok else b""
