"""MinIO identities of their own for tenant tests: a fresh bucket, and temporary credentials
(MinIO's STS AssumeRole with a session policy) that may read that bucket and nothing else.
They need no admin client (MinIO's user API wants its own encrypted payloads), and are scoped,
expiring keys, the way cloud tenants get theirs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore.session  # type: ignore[import-untyped]


@dataclass(frozen=True)
class ScopedIdentity:
    bucket: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    endpoint_url: str
    region: str

    def fields(self) -> dict[str, str]:
        """The credential's fields, as a `file:` secret or `env:NAME_<FIELD>` variables name them."""
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_token": self.session_token,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
        }

    def environ(self, name: str) -> dict[str, str]:
        return {f"{name}_{field.upper()}": value for field, value in self.fields().items()}


def client(stack: Mapping[str, str], service: str) -> Any:
    return botocore.session.get_session().create_client(
        service,
        endpoint_url=stack["AUTOLOADER_S3_ENDPOINT"],
        region_name=stack["AUTOLOADER_S3_REGION"],
        aws_access_key_id=stack["AUTOLOADER_S3_ACCESS_KEY"],
        aws_secret_access_key=stack["AUTOLOADER_S3_SECRET_KEY"],
    )


def scoped_identity(
    stack: Mapping[str, str], name: str, files: Mapping[str, bytes]
) -> ScopedIdentity:
    """A new bucket `it-<name>-…` holding `files`, and an identity that may only read it."""
    bucket = f"it-{name}-{uuid.uuid4().hex[:8]}"
    root = client(stack, "s3")
    root.create_bucket(Bucket=bucket)
    for key, body in files.items():
        root.put_object(Bucket=bucket, Key=key, Body=body)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    answer = client(stack, "sts").assume_role(
        RoleArn="arn:minio:iam:::role/autoloader-it",
        RoleSessionName=f"autoloader-{name}",
        Policy=json.dumps(policy),
        DurationSeconds=3600,
    )["Credentials"]
    return ScopedIdentity(
        bucket=bucket,
        access_key_id=answer["AccessKeyId"],
        secret_access_key=answer["SecretAccessKey"],
        session_token=answer["SessionToken"],
        endpoint_url=stack["AUTOLOADER_S3_ENDPOINT"],
        region=stack["AUTOLOADER_S3_REGION"],
    )
