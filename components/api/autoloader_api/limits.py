"""Bounds every request meets before and while a route serves it: a body no larger than
`api_max_body_bytes` (413, refused before it is parsed) and a deadline after which the client
gets 504 (the route is cancelled), so that no request hangs whatever it waits on."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("autoloader.api")


class BodyTooLarge(Exception):
    pass


async def _send_error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status in (503, 504):
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Pure ASGI (no BaseHTTPMiddleware): it neither buffers bodies nor costs a task."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, deadline_seconds: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.deadline_seconds = deadline_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"a request body may hold at most {self.max_body_bytes} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                await _send_error(send, 413, too_large)
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(too_large)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        deadline = asyncio.timeout(self.deadline_seconds)
        try:
            async with deadline:
                await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as error:
            if not started:
                await _send_error(send, 413, str(error))
        except TimeoutError:
            if not deadline.expired():
                raise
            log.warning(
                "%s %s was not answered within %g s; cancelled",
                scope.get("method"),
                scope.get("path"),
                self.deadline_seconds,
            )
            if not started:
                await _send_error(
                    send, 504, f"not answered within {self.deadline_seconds:g} s; try again"
                )
