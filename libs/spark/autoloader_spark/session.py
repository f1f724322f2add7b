"""Spark Connect sessions, one per cluster and reused, and a deadline on every call."""

from __future__ import annotations

import contextlib
import threading
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from autoloader_spark.errors import SparkCallTimeout

T = TypeVar("T")
_sessions: dict[str, SparkSession] = {}
_parallelism: weakref.WeakKeyDictionary[SparkSession, int] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


# A read's Hadoop settings carry the ingestion's secrets (autoloader_storage.credentials):
# Spark redacts them in what it shows of a plan. `string.regex` covers the statement text of
# the Spark UI's Connect tab (the plan as protobuf text: `key: "...secret.key" value: "..."`),
# `options.regex` the data source options in explained plans. Both are session settings, so no
# cluster needs configuring for it.
_SECRET_KEYS = r"secret|token|password|access\.key|account\.key"
REDACTION = {
    "spark.sql.redaction.string.regex": rf'(?i)({_SECRET_KEYS})[^"\n]*"\s*value: "(?:[^"\\]|\\.)*"',
    "spark.sql.redaction.options.regex": rf"(?i)url|{_SECRET_KEYS}",
}


def connect(remote: str, token: str | None = None) -> SparkSession:
    """The session for `remote` (`sc://host:port`), created once per process and reused."""
    if not remote.startswith("sc://"):
        raise ValueError(f"A Spark Connect URL starts with sc://, got {remote!r}.")
    url = f"{remote.rstrip('/')}/;token={token}" if token else remote
    with _lock:
        session = _sessions.get(url)
        # Spark Connect sessions know when their channel closed (classic sessions do not).
        if session is None or getattr(session, "is_stopped", False):
            session = SparkSession.builder.remote(url).create()
            for name, pattern in REDACTION.items():
                session.conf.set(name, pattern)
            _sessions[url] = session
        return session


def close_all() -> None:
    """Stops this process's sessions (their server-side state is freed at once)."""
    with _lock:
        sessions = list(_sessions.values())
        _sessions.clear()
    for session in sessions:
        # Already closed, or the server is gone: nothing is left to free.
        with contextlib.suppress(Exception):
            session.stop()


def with_deadline(spark: SparkSession, call: Callable[[], T], seconds: float, what: str) -> T:
    """Runs `call` (Spark work) and interrupts it on the server if it passes `seconds`.

    A server-side failure such as an OutOfMemoryError can leave a client waiting forever; the
    interrupt frees the server, and the caller gets SparkCallTimeout instead of a hang.
    """
    tag = f"autoloader-{uuid.uuid4().hex}"
    pool = ThreadPoolExecutor(max_workers=1)

    def tagged() -> T:
        spark.addTag(tag)
        try:
            return call()
        finally:
            spark.removeTag(tag)

    future = pool.submit(tagged)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout as error:
        spark.interruptTag(tag)
        raise SparkCallTimeout(
            f"{what} passed its deadline of {seconds:.0f} s and was interrupted"
        ) from error
    finally:
        pool.shutdown(wait=False)


def cluster_parallelism(spark: SparkSession, seconds: float = 120) -> int:
    """How many tasks the cluster runs at once (Spark's default parallelism), measured once per
    session: Spark Connect does not expose it, but a range read without a partition count is
    split into that many partitions."""
    known = _parallelism.get(spark)
    if known is None:
        probe = spark.range(0, 1 << 16).select(F.spark_partition_id().alias("p")).distinct()
        known = max(1, with_deadline(spark, probe.count, seconds, "measuring the parallelism"))
        _parallelism[spark] = known
    return known
