"""The web dashboard: the files of static/ under /ui/ with a strict content security policy (they hold no data;
every request for data goes to /api/v1 with the key the user typed in)."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api.core.errors import NotFound

STATIC_ROOT = Path(__file__).resolve().parent / "static"
UI_PATH = "/ui"

# No inline script or style anywhere; images may be blob: URLs (photos fetched with the key); nothing leaves the
# server; the page cannot be framed. X-Frame-Options: DENY and Referrer-Policy: no-referrer come with every
# response (api.core.middleware.SecurityHeaders).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
                           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
UI_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-cache",  # revalidated by ETag: a new server version is seen at once
}
_TEXT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
               ".md": "text/markdown", ".LICENSE": "text/plain"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


def load_files(root: Path = STATIC_ROOT) -> dict[str, StaticFile]:
    """Every file under root by its relative path ("" is index.html), read once: ~300 KB, served from memory
    without a disk read or a thread per request (the dashboard's 17 files load in one round trip)."""
    files: dict[str, StaticFile] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        body = path.read_bytes()
        media_type = _TEXT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type == "image/svg+xml":
            media_type += "; charset=utf-8"
        files[path.relative_to(root).as_posix()] = StaticFile(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:20]}"')
    files[""] = files["index.html"]
    return files


def mount_dashboard(app: FastAPI, root: Path = STATIC_ROOT) -> None:
    """Serve the dashboard at /ui/ (index.html for the folder itself); /ui redirects there."""
    files = load_files(root)
    router = APIRouter(include_in_schema=False)

    @router.get(UI_PATH)
    async def dashboard_root() -> RedirectResponse:
        """/ui -> /ui/ (a path, not a URL built from the Host header)."""
        return RedirectResponse(f"{UI_PATH}/", status_code=308)

    @router.get(UI_PATH + "/{path:path}")
    async def dashboard_file(path: str, request: Request) -> Response:
        """A file of the dashboard (no key: the files hold no data)."""
        found = files.get(path)
        if found is None:
            raise NotFound(f"No dashboard file {path!r}.")
        headers = {**UI_HEADERS, "ETag": found.etag}
        if request.headers.get("if-none-match") == found.etag:
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)

    app.include_router(router)
