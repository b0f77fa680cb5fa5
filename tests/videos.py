"""Videos the tests make: shapes (as in the built-in dataset) moving on known straight paths, written with OpenCV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class Path2D:
    """A shape moving at constant speed from `start` to `end` (centres, in 0..1 of the frame) over the video."""

    shape: str  # square | circle | triangle
    start: tuple[float, float]
    end: tuple[float, float]
    colour: tuple[int, int, int]  # BGR

    def centre(self, t: float) -> tuple[float, float]:
        return (self.start[0] + (self.end[0] - self.start[0]) * t, self.start[1] + (self.end[1] - self.start[1]) * t)


# Two objects crossing the middle of the frame in opposite directions, far apart vertically: a vertical line at
# x = 0.5 is crossed once by each, left-to-right by the square and right-to-left by the circle.
DEFAULT_PATHS = (
    Path2D("square", (0.15, 0.28), (0.85, 0.28), (40, 40, 230)),
    Path2D("circle", (0.85, 0.72), (0.15, 0.72), (230, 60, 40)),
)


def render_frame(paths: tuple[Path2D, ...], t: float, size: int, side_fraction: float = 0.26) -> np.ndarray:
    frame = np.zeros((size, size, 3), np.uint8)
    frame[:] = (200, 200, 200)
    side = int(size * side_fraction)
    for path in paths:
        cx, cy = path.centre(t)
        x0, y0 = int(cx * size - side / 2), int(cy * size - side / 2)
        if path.shape == "square":
            cv2.rectangle(frame, (x0, y0), (x0 + side, y0 + side), path.colour, -1)
        elif path.shape == "circle":
            cv2.circle(frame, (int(cx * size), int(cy * size)), side // 2, path.colour, -1, cv2.LINE_AA)
        else:
            points = np.array([(x0 + side // 2, y0), (x0 + side, y0 + side), (x0, y0 + side)], np.int32)
            cv2.fillPoly(frame, [points], path.colour, cv2.LINE_AA)
    return frame


def write_video(path: Path, *, frames: int = 60, fps: float = 15.0, size: int = 256,
                paths: tuple[Path2D, ...] = DEFAULT_PATHS, codec: str = "mp4v") -> Path:
    """Frame i shows each shape at t = i / (frames - 1) along its path."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (size, size))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    try:
        for i in range(frames):
            writer.write(render_frame(paths, i / max(1, frames - 1), size))
    finally:
        writer.release()
    return path


def jpeg_frames(paths: tuple[Path2D, ...] = DEFAULT_PATHS, *, frames: int = 60, size: int = 256) -> list[bytes]:
    """The same frames as JPEGs, for an MJPEG server."""
    return [cv2.imencode(".jpg", render_frame(paths, i / max(1, frames - 1), size))[1].tobytes() for i in range(frames)]
