"""An HTTP proxy in front of the stack's Prefect server that a test can make slow or take down,
to see what the API does when Prefect is late or gone (a real Prefect behind it otherwise)."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autoloader_devstack.ports import free_port

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class PrefectProxy:
    """Modes: `pass`; `slow` (every request answered `delay` seconds late); `slow_writes`
    (only writes of deployments are late: Prefect answers health checks, then stalls on the
    change itself). `down()` stops listening, as a stopped Prefect; `up()` listens again."""

    def __init__(self, upstream_api: str, delay: float = 10.0) -> None:
        self.upstream = upstream_api.rstrip("/").removesuffix("/api")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.mode = "pass"
        self.delay = delay
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self.up()

    def _late(self, request: Request) -> bool:
        if self.mode == "slow":
            return True
        writes = request.method in ("POST", "PATCH", "PUT", "DELETE")
        return self.mode == "slow_writes" and writes and "/deployments" in request.url.path

    async def _forward(self, request: Request) -> Response:
        if self._late(request):
            await asyncio.sleep(self.delay)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        if self._client is None:  # made in the proxy's own event loop
            self._client = httpx.AsyncClient(timeout=60)
        answer = await self._client.request(
            request.method,
            f"{self.upstream}{request.url.path}",
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, answer.status_code, headers=kept)

    def up(self) -> None:
        methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=methods)])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the Prefect proxy did not start")
            time.sleep(0.05)

    def down(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(20)
            self._server = None
            self._client = None  # its connections belonged to the stopped loop
