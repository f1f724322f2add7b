"""Short, stable OpenAPI operation ids (`ingestions_create`, `runs_logs`), so that generated
clients read well: the route's first tag, then its function's name without the tag's words."""

from __future__ import annotations

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "api"
    redundant = {tag, tag.removesuffix("s")}
    words = [word for word in route.name.split("_") if word not in redundant]
    return f"{tag}_{'_'.join(words) or route.name}"
