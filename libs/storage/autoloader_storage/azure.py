"""Azure Blob / ADLS Gen2 listing client (the SDK's pager streams pages; adlfs's find does not)."""

from __future__ import annotations

from typing import Any

from azure.storage.blob import ContainerClient

from autoloader_storage.credentials import AzureConnection, Connection
from autoloader_storage.uri import SourceURI


def container_client(source: SourceURI, connection: Connection) -> ContainerClient:
    options: dict[str, Any] = {"retry_total": 3, "connection_timeout": 5}
    assert isinstance(connection, AzureConnection)
    account = connection.account_of(source)  # the account Spark reads too
    if connection.connection_string:
        return ContainerClient.from_connection_string(
            connection.connection_string, source.bucket, **options
        )
    url = connection.endpoint_url or f"https://{account}.blob.core.windows.net"
    credential: Any
    if connection.account_key:
        credential = {"account_name": account, "account_key": connection.account_key}
    elif connection.sas_token:
        credential = connection.sas_token
    elif connection.reference == "anonymous":
        credential = None
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return ContainerClient(url, source.bucket, credential=credential, **options)
