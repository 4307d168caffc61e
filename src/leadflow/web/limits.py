"""ASGI middleware refusing request bodies larger than the configured limit (413)."""

from __future__ import annotations

import contextlib
import json


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` (or `upload_bytes` for multipart uploads), streaming or not."""

    def __init__(self, app, *, max_bytes: int, upload_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.upload_bytes if ctype.startswith("multipart/form-data") else self.max_bytes
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await _too_large(send, limit)
        seen = 0
        refused = False
        started = False

        async def limited_receive():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            nonlocal started
            # The framework may catch _TooLarge and answer "400 error parsing the body"
            # itself; a body we cut off gets our 413 instead.
            if refused and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if refused and not started:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"body: request body larger than {limit} bytes",
                       "errors": [{"field": "body", "message": f"larger than {limit} bytes"}]}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
