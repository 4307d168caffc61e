"""A lean ASGI path for the busiest request: POST /f/{slug}/submit answered in JSON.

The framework's routing, dependency and thread-pool machinery costs more per request than
judging and storing a submission (measured: a do-nothing route of this app tops out near 2,900
requests/s on 2 cores). Requests that want a JSON answer (the script embed, API clients) are
handled here with the same `handle_submit` as the route; everything else (HTML answers, multipart
bodies, other paths) goes on to the app untouched. It sits inside BodyLimitMiddleware, so the body
limit holds.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from leadflow.capture.public import JSON_TYPES, handle_submit

_PATH = re.compile(r"^/f/([^/]{1,100})/submit$")


class SubmitFastPath:
    def __init__(self, app: Any, *, state: Any):
        self.app = app
        self.state = state  # the FastAPI app's state (writer, limiter, processor)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not (match := _PATH.match(scope["path"])):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in (*JSON_TYPES, "application/x-www-form-urlencoded") or not (
                ctype in JSON_TYPES or "application/json" in headers.get("accept", "")):
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending the whole body: nothing to store or answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        host = headers.get("host", "")
        own_origin = f"{scope.get('scheme', 'http')}://{host}" if host else ""
        client = scope.get("client")
        query = dict(_query(scope.get("query_string", b"")))
        result = await handle_submit(state=self.state, slug=match.group(1), ctype=ctype, body=b"".join(chunks),
                                     headers=headers, client_ip=client[0] if client else None, query=query,
                                     own_origin=own_origin)
        out = [(b"content-type", b"application/json"), (b"vary", b"Origin")]
        if result.kind != "forbidden" and result.origin and result.origin != own_origin:
            out.append((b"access-control-allow-origin", result.origin.encode("latin-1")))
        await send({"type": "http.response.start", "status": result.status, "headers": out})
        await send({"type": "http.response.body", "body": json.dumps(result.body).encode()})


def _query(raw: bytes):
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
