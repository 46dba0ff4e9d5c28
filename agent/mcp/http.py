"""``muie mcp --http``: the streamable HTTP app behind the same bearer token as ``muie serve``
(``MUIE_SERVE_TOKEN``), when one is set."""

from __future__ import annotations

import hmac
import json
from typing import Any


class TokenGuard:
    """ASGI middleware: every HTTP request carries ``Authorization: Bearer <token>``, or is a 401."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.token is None:
            return await self.app(scope, receive, send)  # type: ignore[no-any-return]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), self.token.encode()):
            return await self.app(scope, receive, send)  # type: ignore[no-any-return]
        body = json.dumps({"error": {"message": "missing or wrong bearer token (Authorization: Bearer <token>)",
                                     "type": "authentication_error", "code": 401}}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return None
