"""Previewing an ingestion, saved or not: a sample of its files as its table would get them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from autoloader_discovery.discover import rules_of
from autoloader_ingest.batches import load_spec
from autoloader_metadata.enums import AfterLoad
from autoloader_model.ingestion import Ingestion
from pyspark.sql import SparkSession

from autoloader_spark.preview import PreviewResult, preview
from autoloader_storage import credentials
from autoloader_storage.cleanup import SourceCleaner
from autoloader_storage.credentials import Connection
from autoloader_storage.listing import list_objects
from autoloader_storage.reach import ReachPolicy
from autoloader_storage.uri import SourceURI, parse_source_uri, spark_path_of


@dataclass(frozen=True)
class IngestionPreview:
    result: PreviewResult
    matching_files: int
    sampled_files: list[str]
    seconds: float
    warnings: list[str]


def preview_ingestion(
    spark: SparkSession,
    ingestion: Ingestion,
    max_files: int = 10,
    limit: int = 20,
    environ: Mapping[str, str] | None = None,
    reach: ReachPolicy | None = None,
    now: datetime | None = None,
) -> IngestionPreview:
    """Lists the source with the ingestion's rules (counting every match), reads the first
    `max_files` of them, and writes nothing anywhere."""
    started = time.perf_counter()
    source = parse_source_uri(ingestion.spec.source.uri)
    connection = credentials.resolve(ingestion.spec.source.credential_ref, source.kind, environ)
    # Checked before anything is listed; the settings are what Spark reads the sample with.
    access = (reach or ReachPolicy()).spark_access(source, connection, ingestion.spec.cluster)
    sample: list[str] = []
    matching = 0
    for item in list_objects(source, connection, rules_of(ingestion), now or datetime.now(UTC)):
        matching += 1
        if len(sample) < max_files:
            sample.append(item.uri)
    if not sample:
        raise FileNotFoundError(
            f"{ingestion.spec.source.uri}: no file matches the ingestion's rules"
        )
    paths = [spark_path_of(uri) for uri in sample]
    result = preview(spark, load_spec(ingestion, access=access), paths, limit)
    warnings = _cleanup_problems(ingestion, source, connection)
    return IngestionPreview(result, matching, sample, time.perf_counter() - started, warnings)


def _cleanup_problems(ingestion: Ingestion, source: SourceURI, connection: Connection) -> list[str]:
    """What would stop source cleanup, found by trying it on a hidden probe object (reading
    the files says nothing of the right to delete them)."""
    spec = ingestion.spec.source
    if spec.after_load is AfterLoad.KEEP:
        return []
    archive = parse_source_uri(spec.archive_uri) if spec.archive_uri else None
    return SourceCleaner(source, connection, archive).probe()
