"""Uploads streamed to a staging file with their sha256: never read whole into memory."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from api.core.errors import PayloadTooLarge, ValidationFailed
from api.core.pools import Pool

_CHUNK = 1 << 20


class AsyncReadable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StagedFile:
    path: Path
    sha256: str
    size: int


async def stage_upload(source: AsyncReadable, staging_dir: Path, *, max_bytes: int, suffix: str,
                       writer: Pool) -> StagedFile:
    staging_dir.mkdir(parents=True, exist_ok=True)
    path = staging_dir / f"{uuid.uuid4().hex}{suffix}"
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as sink:
            while chunk := await source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"The file is larger than {max_bytes} bytes.", details={"max_bytes": max_bytes})
                digest.update(chunk)
                await writer.run(sink.write, chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValidationFailed.for_field("body.file", "the uploaded file is empty", code="empty_file")
    return StagedFile(path=path, sha256=digest.hexdigest(), size=size)
