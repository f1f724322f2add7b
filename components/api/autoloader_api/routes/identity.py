"""/api/v1/whoami: the key a caller holds, as the API sees it (its tenant and scopes)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from autoloader_api.auth import Reader
from autoloader_api.routes.common import errors
from autoloader_core import __version__

router = APIRouter(prefix="/api/v1", tags=["identity"])


class Identity(BaseModel):
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    key_name: str
    scopes: list[str]
    server_version: str


@router.get("/whoami", responses=errors())
async def whoami(principal: Reader) -> Identity:
    return Identity(
        tenant_id=principal.tenant_id,
        key_id=principal.key_id,
        key_name=principal.key_name,
        scopes=sorted(scope.value for scope in principal.scopes),
        server_version=__version__,
    )
