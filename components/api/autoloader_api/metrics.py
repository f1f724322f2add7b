"""Request metrics of the API, by route (the handler's name, so ids do not explode labels)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette import types  # pants: no-infer-dep (starlette comes with fastapi)

REQUESTS = Counter(
    "api_requests_total",
    "API requests answered, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "api_request_duration_seconds",
    "Time to answer an API request, by route and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class RequestMetrics:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every request)."""

    def __init__(self, app: types.ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: types.Scope, receive: types.Receive, send: types.Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: types.Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - started)
