"""``muie serve``: the web page (``agent/web/``: one HTML file, one script, one style
sheet; plain JavaScript, nothing fetched from anywhere but this server).

The page's own files are the only thing served without the bearer token: the page asks
the user for the token when the server wants one and sends it with every API call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from muie.agent.serve.protocol import HTTPProblem

WEB = Path(__file__).resolve().parent / "web"
FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
         "style.css": "text/css; charset=utf-8"}
OPEN_PATHS = frozenset({"/", "/favicon.ico"} | {f"/web/{name}" for name in FILES})
"""Paths served without the token."""
_POLICY = ("default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
           "style-src 'self'; script-src 'self'; frame-ancestors 'none'")


def web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(name: str) -> FileResponse:
        return FileResponse(WEB / name, media_type=FILES[name],
                            headers={"Content-Security-Policy": _POLICY, "Cache-Control": "no-cache",
                                     "X-Content-Type-Options": "nosniff"})

    @router.get("/")
    async def index() -> FileResponse:
        return page("index.html")

    @router.get("/favicon.ico")
    async def favicon() -> None:
        raise HTTPProblem(404, "no icon", None, "not_found_error")

    @router.get("/web/{name}")
    async def asset(name: str) -> FileResponse:
        if name not in FILES:
            raise HTTPProblem(404, f"no file {name[:80]!r} on the page", None, "not_found_error")
        return page(name)

    return router
