"""The web console (components/ui), served at /ui from the assets its build put beside this
module; `/` redirects there. Every path under /ui that is not an asset is the app's page (its
router reads the URL), and every answer carries a strict Content-Security-Policy: scripts and
styles from this origin only, no inline code, no other origin reached."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

ASSETS = Path(__file__).parent / "console"

POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

router = APIRouter(include_in_schema=False)


def _asset(path: str, root: Path) -> Path | None:
    """The built file at `path` under `root`, or None (never a file outside it, and None for a
    name the file system refuses, such as one too long)."""
    try:
        candidate = (root / path).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return candidate
    except OSError:
        pass
    return None


def page(path: str, root: Path = ASSETS) -> Response:
    index = root / "index.html"
    if not index.is_file():
        return JSONResponse(
            {"detail": "The web console was not built into this API (run ./dev ui)."},
            status_code=404,
        )
    asset = _asset(path, root) if path else None
    if asset is None and path.startswith("assets/"):
        # A hashed file of an earlier build (an old tab after a deploy): gone, not the app's HTML.
        return JSONResponse({"detail": f"no console asset {path}"}, status_code=404)
    if asset is None:
        # The app's own pages; it never caches, so a new build is picked up at once.
        return FileResponse(index, headers={**HEADERS, "Cache-Control": "no-cache"})
    # Vite names built files by content hash: they never change under the same name.
    cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
    media_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
    return FileResponse(asset, media_type=media_type, headers={**HEADERS, "Cache-Control": cache})


@router.get("/")
@router.get("/ui")
async def to_console() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/{path:path}")
def console(path: str) -> Response:
    """Sync on purpose: FastAPI runs it in its thread pool, so the file checks never block the
    event loop."""
    return page(path)
