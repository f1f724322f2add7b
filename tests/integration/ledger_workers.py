"""Code that integration tests run in separate processes against the file ledger."""

from __future__ import annotations

import sys
import time
import uuid

from autoloader_metadata.db import make_engine, session_factory, transaction
from autoloader_metadata.ledger import FileLedger


def claim_until_empty(url: str, ingestion_id: str, max_files: int) -> list[int]:
    """Claims batches (each in its own committed transaction) until none is left."""
    engine = make_engine(url, pool_size=1)
    sessions = session_factory(engine)
    claimed: list[int] = []
    try:
        while True:
            with transaction(sessions) as session:
                batch = FileLedger(session).claim_batch(
                    uuid.UUID(ingestion_id), max_files=max_files, max_bytes=10**12
                )
            if batch is None:
                return claimed
            claimed.extend(file.id for file in batch.files)
    finally:
        engine.dispose()


def claim_then_hang(url: str, ingestion_id: str, flow_run_id: str) -> None:
    """Claims one batch, commits, reports its id on stdout, then waits to be killed."""
    engine = make_engine(url, pool_size=1)
    with transaction(session_factory(engine)) as session:
        batch = FileLedger(session).claim_batch(
            uuid.UUID(ingestion_id), 100, 10**12, flow_run_id=uuid.UUID(flow_run_id)
        )
    assert batch is not None
    print(batch.id, flush=True)
    time.sleep(600)


if __name__ == "__main__":
    claim_then_hang(*sys.argv[1:4])
