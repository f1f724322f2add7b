"""Opening Spark Connect sessions against a configured cluster."""

from __future__ import annotations

from pyspark.sql import SparkSession


def connect(remote: str) -> SparkSession:
    """A Spark Connect session to `remote` (`sc://host:port[/;token=…]`)."""
    if not remote.startswith("sc://"):
        raise ValueError(f"A Spark Connect URL starts with sc://, got {remote!r}.")
    return SparkSession.builder.remote(remote).getOrCreate()
