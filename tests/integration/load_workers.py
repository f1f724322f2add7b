"""A process that loads a claimed batch into Iceberg and dies before telling the ledger."""

from __future__ import annotations

import os
import signal
import sys
import uuid

from autoloader_ingest.batches import load_spec
from autoloader_metadata.db import make_engine, session_factory, transaction
from autoloader_metadata.ledger import FileLedger
from autoloader_model.store import IngestionStore

from autoloader_spark.load import FileToLoad, load_batch
from autoloader_spark.session import connect
from autoloader_storage.uri import spark_path_of


def commit_then_die(url: str, ingestion_id: str, remote: str) -> None:
    engine = make_engine(url, pool_size=1)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        ingestion = IngestionStore(session).find(uuid.UUID(ingestion_id))
        assert ingestion is not None
        batch = FileLedger(session).claim_batch(ingestion.id, 100, 10**12)
    assert batch is not None
    print(batch.id, flush=True)
    files = [FileToLoad(f.id, spark_path_of(f.path)) for f in batch.files]
    load_batch(connect(remote), load_spec(ingestion), str(batch.id), files)
    os.kill(os.getpid(), signal.SIGKILL)  # after the Iceberg commit, before the ledger update


if __name__ == "__main__":
    commit_then_die(*sys.argv[1:4])
