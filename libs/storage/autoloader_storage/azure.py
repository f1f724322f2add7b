"""Azure Blob / ADLS Gen2 listing client (the SDK's pager streams pages; adlfs's find does not)."""

from __future__ import annotations

from typing import Any

from azure.storage.blob import ContainerClient

from autoloader_storage.credentials import Connection
from autoloader_storage.errors import CredentialNotFound
from autoloader_storage.uri import SourceURI


def container_client(source: SourceURI, connection: Connection) -> ContainerClient:
    options: dict[str, Any] = {"retry_total": 3, "connection_timeout": 5}
    connection_string = connection.get("connection_string")
    if connection_string:
        return ContainerClient.from_connection_string(connection_string, source.bucket, **options)
    account = connection.get("account_name") or source.account
    if not account:
        raise CredentialNotFound(
            f"{source.root}: no storage account: name it in the URI "
            "(container@account.dfs.core.windows.net) or as the credential's account_name"
        )
    url = connection.get("endpoint_url") or f"https://{account}.blob.core.windows.net"
    credential: Any
    if connection.get("account_key"):
        credential = {"account_name": account, "account_key": connection.get("account_key")}
    elif connection.get("sas_token"):
        credential = connection.get("sas_token")
    elif connection.reference == "anonymous":
        credential = None
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return ContainerClient(url, source.bucket, credential=credential, **options)
