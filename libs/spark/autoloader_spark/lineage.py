"""The lineage columns a load writes beside the files' own: which ones, and under what names.

What needs which column: counting rows per file in a batch of many files needs `source_file`
and `batch_id` (without them the batch's total is known, and each file's count is not); a full
refresh deletes an ingestion's rows by `batch_id`; `rewritten_files: replace` deletes a file's
old rows by `source_file`. A batch of one file and crash recovery need none (the snapshot
summary names the batch and counts its rows).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from autoloader_spark.identifiers import quote

ColumnName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]


class MetadataColumns(BaseModel):
    """Each lineage column's name in the table, or null to not write it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_file: ColumnName | None = Field(
        default="_source_file", description="The file's full path (URI) the row came from."
    )
    source_modified_at: ColumnName | None = Field(
        default="_source_modified_at", description="The file's modification time."
    )
    batch_id: ColumnName | None = Field(
        default="_batch_id", description="The batch that loaded the row (needed by full refresh)."
    )
    ingested_at: ColumnName | None = Field(
        default="_ingested_at", description="When the batch was read."
    )
    source_size: ColumnName | None = Field(default=None, description="The file's size in bytes.")
    source_etag: ColumnName | None = Field(
        default=None, description="The file's ETag as listed: which version of it loaded."
    )

    @model_validator(mode="after")
    def distinct(self) -> MetadataColumns:
        names = [n.casefold() for n in self.names()]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"two lineage columns are named {', '.join(repeated)}")
        for name in self.names():
            quote(name)
        return self

    def names(self) -> list[str]:
        """The names of the columns written, in the order they are added."""
        return [name for name in self.model_dump().values() if name is not None]

    @property
    def counts_rows_per_file(self) -> bool:
        return self.source_file is not None and self.batch_id is not None


NO_METADATA = MetadataColumns(
    source_file=None, source_modified_at=None, batch_id=None, ingested_at=None
)
