"""Each object store of the dev stack is real: write, list with size and version, read back."""

from __future__ import annotations

import uuid

import pytest
from support import StackFactory, s3_options

from autoloader_storage.filesystems import filesystem_for

PAYLOAD = b"id,name\n1,alpha\n2,beta\n"


def test_s3fs_put_then_list_reports_size_and_etag(services: StackFactory) -> None:
    settings = services("s3")
    fs = filesystem_for("s3://", **s3_options(settings))
    prefix = f"{settings['AUTOLOADER_LANDING_BUCKET']}/it-{uuid.uuid4().hex}"

    fs.pipe(f"{prefix}/a.csv", PAYLOAD)
    fs.pipe(f"{prefix}/b.csv", PAYLOAD + b"3,gamma\n")
    listing = fs.find(prefix, detail=True)

    assert sorted(listing) == [f"{prefix}/a.csv", f"{prefix}/b.csv"]
    assert listing[f"{prefix}/a.csv"]["size"] == len(PAYLOAD)
    assert listing[f"{prefix}/b.csv"]["size"] == len(PAYLOAD) + 8
    etags = {entry["ETag"].strip('"') for entry in listing.values()}
    assert len(etags) == 2 and all(len(etag) >= 32 for etag in etags)
    assert fs.cat(f"{prefix}/a.csv") == PAYLOAD


def test_adlfs_against_azurite(services: StackFactory) -> None:
    settings = services("azurite")
    fs = filesystem_for("abfs://", connection_string=settings["AUTOLOADER_AZURE_CONNECTION_STRING"])
    container = f"it-{uuid.uuid4().hex[:12]}"
    fs.mkdir(container)

    fs.pipe(f"{container}/year=2026/a.csv", PAYLOAD)
    listing = fs.find(container, detail=True)

    assert list(listing) == [f"{container}/year=2026/a.csv"]
    entry = listing[f"{container}/year=2026/a.csv"]
    assert entry["size"] == len(PAYLOAD)
    assert entry["etag"]
    assert fs.cat(f"{container}/year=2026/a.csv") == PAYLOAD


@pytest.fixture
def gcs_settings(services: StackFactory, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # Without this, gcsfs probes hierarchical-namespace support over gRPC and waits 60 s a bucket.
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    return services("gcs")


def test_gcsfs_against_the_gcs_emulator(gcs_settings: dict[str, str]) -> None:
    fs = filesystem_for(
        "gs://",
        endpoint_url=gcs_settings["AUTOLOADER_GCS_ENDPOINT"],
        project=gcs_settings["AUTOLOADER_GCS_PROJECT"],
        token="anon",
    )
    bucket = f"it-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)

    fs.pipe(f"{bucket}/data/a.csv", PAYLOAD)
    fs.invalidate_cache()
    listing = fs.find(bucket, detail=True)

    assert list(listing) == [f"{bucket}/data/a.csv"]
    assert int(listing[f"{bucket}/data/a.csv"]["size"]) == len(PAYLOAD)
    assert fs.cat(f"{bucket}/data/a.csv") == PAYLOAD
