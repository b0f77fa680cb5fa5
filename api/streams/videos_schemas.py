"""Schemas of recorded videos: uploaded files that streams play as a source (`video:<id>`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

Container = Literal["mp4", "avi", "mkv", "webm"]


def video_source(video_id: int) -> str:
    """The `source` of a stream that plays video `video_id`."""
    return f"video:{video_id}"


class VideoRead(BaseModel):
    id: int
    name: str
    filename: str = Field(description="The uploaded file's name (the server stores it as <id>.<container>).")
    container: Container
    size_bytes: int
    sha256: str
    width: int = Field(description="Width of the decoded frames, pixels.")
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str | None = Field(description="The video stream's fourcc, e.g. FMP4, MJPG, VP80.")
    created_at: float
    created_by: int | None

    @computed_field(description="What POST /streams takes as `source` to play this video.")  # type: ignore[prop-decorator]
    @property
    def source(self) -> str:
        return video_source(self.id)


class VideoList(BaseModel):
    items: list[VideoRead]
    total: int
