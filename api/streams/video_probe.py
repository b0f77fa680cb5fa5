"""Is an uploaded file a video a stream can play? Refused unless proven: the extension and the first bytes must name
the same allowed container (415 otherwise), then OpenCV's FFmpeg backend must open it and decode its first and last
frames (422 `invalid_video` otherwise). Decoding runs in a throwaway process (api/core/isolated.py): FFmpeg parsing
an untrusted file may crash, hang or allocate without bound, and none of that may reach the server."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path, PurePath
from typing import Any

from api.core.errors import UnsupportedMediaType, ValidationFailed
from api.core.isolated import IsolatedFailure, Limits, run_isolated
from api.core.pools import Pool

CONTAINERS = ("mp4", "avi", "mkv", "webm")
# Magic-byte family of each container: mkv and webm are both Matroska (EBML), told apart only by a header field.
_FAMILY = {"mp4": "iso_bmff", "avi": "avi", "mkv": "matroska", "webm": "matroska"}
_FAMILY_NAMES = {"iso_bmff": "an MP4/MOV", "avi": "an AVI", "matroska": "a Matroska (MKV/WebM)"}
MAX_SIDE = 8192
MAX_FPS = 1000.0
MAX_FRAMES = 2**31 - 1
# 8K frames with FFmpeg's reference frames take hundreds of MiB; a file that needs more than this is refused (422).
PROBE_LIMITS = Limits(timeout_s=60.0, memory_mb=2048)
# FFmpeg would start a decoder thread per core, each reserving address space the cap counts; two decode fast enough.
_DECODE_THREADS = 2
_WARM_IMPORTS = ("numpy", "cv2")


@dataclass(frozen=True, slots=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str | None  # the stream's fourcc, e.g. "FMP4", "MJPG"; None when it is not printable


def unsupported(what: str) -> UnsupportedMediaType:
    """415 naming the kinds of video this server takes."""
    return UnsupportedMediaType(f"{what}; send a video file: {', '.join(CONTAINERS)}.",
                                details={"allowed": list(CONTAINERS)})


def invalid(problem: str) -> ValidationFailed:
    return ValidationFailed(f"The video was refused: {problem}.", code="invalid_video", details={"reason": problem})


def container_of(filename: str | None) -> str:
    """The container the file name's extension claims; 415 for anything else (checked before the body is stored)."""
    suffix = PurePath(filename or "").suffix.lower().lstrip(".")
    if suffix not in CONTAINERS:
        raise unsupported(f"A file named {PurePath(filename or '').name[:100]!r} is not an accepted video")
    return suffix


def sniff(head: bytes) -> str | None:
    """The container family the first 12 bytes show, or None."""
    if head[4:8] == b"ftyp":
        return "iso_bmff"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    return None


def check_magic(path: Path, container: str) -> None:
    """415 unless the file's first bytes are those of `container` (a .mp4 that is an AVI inside is refused too)."""
    with path.open("rb") as handle:
        found = sniff(handle.read(12))
    if found != _FAMILY[container]:
        shown = f"{_FAMILY_NAMES[found]} file" if found else "not a video file"
        raise unsupported(f"The .{container} upload is {shown} by its content")


def probe_file(path: str) -> dict[str, Any]:
    """In the isolated child: open and decode the first and last frames; what the video is, or a 422."""
    import os

    import cv2

    # Quiet: FFmpeg's complaints about a broken upload would fill the server's console, and the 422 says it all.
    os.environ["OPENCV_FFMPEG_LOGLEVEL"] = "-8"
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    cv2.setNumThreads(1)
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, _DECODE_THREADS])
    try:
        if not capture.isOpened():
            raise invalid("the video cannot be opened (truncated or not a video)")
        header = _read_header(capture, cv2)
        ok, frame = capture.read()
        if not ok or frame is None:
            raise invalid("the first frame cannot be decoded")
        height, width = frame.shape[:2]  # as decoded (rotation applied): what a stream will see
        if header.frame_count > 1:
            capture.set(cv2.CAP_PROP_POS_FRAMES, header.frame_count - 1)
            ok, last = capture.read()
            if not ok or last is None:
                raise invalid("the last frame cannot be decoded: the file is truncated")
        return asdict(VideoInfo(width=int(width), height=int(height), fps=header.fps, frame_count=header.frame_count,
                                duration_s=header.duration_s, codec=header.codec))
    finally:
        capture.release()


def _read_header(capture: Any, cv2: Any) -> VideoInfo:
    width, height = capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
    fps, count = capture.get(cv2.CAP_PROP_FPS), capture.get(cv2.CAP_PROP_FRAME_COUNT)
    # Written as "not within" so that NaN, which compares false with everything, is refused too.
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise invalid(f"its frame size {width:g}x{height:g} is not within 1..{MAX_SIDE} pixels a side")
    if not 0 < fps <= MAX_FPS:
        raise invalid(f"its frame rate {fps:g} is not within 0..{MAX_FPS:g} fps")
    if not 0 < count <= MAX_FRAMES:
        raise invalid(f"its frame count {count:g} is not a positive number of frames")
    frame_count = int(count)
    return VideoInfo(width=int(width), height=int(height), fps=float(fps), frame_count=frame_count,
                     duration_s=round(frame_count / fps, 3), codec=_fourcc(capture.get(cv2.CAP_PROP_FOURCC)))


def _fourcc(value: float) -> str | None:
    text = int(value).to_bytes(4, "little", signed=False).decode("ascii", "replace") if 0 < value < 2**32 else ""
    return text.strip() if text.strip() and text.isprintable() and "\ufffd" not in text else None


async def probe_video(path: Path, *, limits: Limits = PROBE_LIMITS, waiter: Pool | None = None) -> VideoInfo:
    """What the video at `path` is, decoded in a throwaway process; 422 `invalid_video` when it is not playable,
    503 `isolated_timeout` when decoding takes longer than `limits` allow."""
    try:
        info = await run_isolated(probe_file, str(path), limits=limits, warm_imports=_WARM_IMPORTS, waiter=waiter)
    except IsolatedFailure as exc:  # a decoder crash or a memory blow-up on this file: the file is what is wrong
        raise invalid(f"decoding it failed: {exc}") from None
    return VideoInfo(**info)
