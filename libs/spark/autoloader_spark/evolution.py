"""How a batch's columns meet the table's: types the files widen, fields new inside structs,
types that cannot meet, and the schema hints that type some columns by hand.

Iceberg promotes a column's type in place only where every old value stays exact: int to bigint,
float to double, and a decimal to a larger precision of the same scale. A file whose column
widens that way has the table's column promoted; a column that narrows (a bigint table column,
an int file) is read into the wider type; anything else is a TypeConflict, which fails the file
as schema_mismatch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql.types import (
    ByteType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StructField,
    StructType,
)

from autoloader_spark.errors import SchemaMismatch

_INTEGRAL_ORDER = (ByteType, ShortType, IntegerType, LongType)


def widens(table_type: DataType, file_type: DataType) -> bool:
    """Whether Iceberg can promote `table_type` to `file_type` keeping every value."""
    if isinstance(table_type, IntegerType) and isinstance(file_type, LongType):
        return True
    if isinstance(table_type, FloatType) and isinstance(file_type, DoubleType):
        return True
    precisions = _decimal_precisions(table_type, file_type)
    return precisions is not None and precisions[1] > precisions[0]


def holds(table_type: DataType, file_type: DataType) -> bool:
    """Whether every value of `file_type` reads into `table_type` exactly (equal or narrower)."""
    if table_type == file_type:
        return True
    ranks = {t: i for i, t in enumerate(_INTEGRAL_ORDER)}
    table_rank = next((r for t, r in ranks.items() if isinstance(table_type, t)), None)
    file_rank = next((r for t, r in ranks.items() if isinstance(file_type, t)), None)
    if table_rank is not None and file_rank is not None:
        return file_rank <= table_rank
    if isinstance(table_type, DoubleType) and isinstance(file_type, FloatType):
        return True
    precisions = _decimal_precisions(table_type, file_type)
    return precisions is not None and precisions[1] <= precisions[0]


def _decimal_precisions(table_type: DataType, file_type: DataType) -> tuple[int, int] | None:
    """(table's, files') precision of two decimals of one scale; None for any other pair."""
    if (
        isinstance(table_type, DecimalType)
        and isinstance(file_type, DecimalType)
        and file_type.scale == table_type.scale
    ):
        return table_type.precision, file_type.precision
    return None


@dataclass
class Evolution:
    """What the batch changes in the table's columns (top-level new columns aside)."""

    # Keyed by the column's path (a struct's field is (struct, field)): old type, new type.
    widened: dict[tuple[str, ...], tuple[DataType, DataType]] = field(default_factory=dict)
    nested: list[tuple[tuple[str, ...], StructField]] = field(default_factory=list)
    conflicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # table, files

    def widened_as_conflicts(self) -> dict[str, tuple[str, str]]:
        """The widenings as TypeConflict takes them, where the mode allows none."""
        return {
            ".".join(path): (old.simpleString(), new.simpleString())
            for path, (old, new) in self.widened.items()
        }

    def describe_widened(self) -> dict[str, str]:
        return {name: f"{old} -> {new}" for name, (old, new) in self.widened_as_conflicts().items()}

    @property
    def nested_names(self) -> list[str]:
        return [".".join((*parent, f.name)) for parent, f in self.nested]


def compare(known: StructType, sample: StructType) -> Evolution:
    """How the sample's columns that the table has differ from the table's (by name, as Spark
    matches them: regardless of case)."""
    evolution = Evolution()
    _compare(known, sample, (), evolution)
    return evolution


def _compare(
    known: StructType, sample: StructType, parent: tuple[str, ...], evolution: Evolution
) -> None:
    table_fields = {f.name.casefold(): f for f in known.fields}
    for file_field in sample.fields:
        table_field = table_fields.get(file_field.name.casefold())
        if table_field is None:
            if parent:
                evolution.nested.append((parent, file_field))
            continue
        path = (*parent, table_field.name)
        name = ".".join(path)
        table_type, file_type = table_field.dataType, file_field.dataType
        if isinstance(table_type, StructType) and isinstance(file_type, StructType):
            _compare(table_type, file_type, path, evolution)
        elif holds(table_type, file_type):
            continue
        elif widens(table_type, file_type):
            evolution.widened[path] = (table_type, file_type)
        else:
            evolution.conflicts[name] = (table_type.simpleString(), file_type.simpleString())


def evolved(known: StructType, evolution: Evolution) -> StructType:
    """The table's columns after the evolution's promotions and nested additions."""
    return _evolved(known, (), evolution)


def _evolved(schema: StructType, parent: tuple[str, ...], evolution: Evolution) -> StructType:
    fields = []
    for f in schema.fields:
        path = (*parent, f.name)
        data_type = f.dataType
        if path in evolution.widened:
            data_type = evolution.widened[path][1]
        elif isinstance(data_type, StructType):
            data_type = _evolved(data_type, path, evolution)
        fields.append(StructField(f.name, data_type, f.nullable, f.metadata))
    fields += [added for where, added in evolution.nested if where == parent]
    return StructType(fields)


def hinted(schema: StructType, hints: StructType | None) -> StructType:
    """`schema` with the hinted columns' types (matched regardless of case)."""
    if hints is None:
        return schema
    types = {f.name.casefold(): f.dataType for f in hints.fields}
    return StructType(
        [
            StructField(f.name, types.get(f.name.casefold(), f.dataType), f.nullable, f.metadata)
            for f in schema.fields
        ]
    )


def unmatched_hints(hints: StructType | None, columns: Sequence[str]) -> list[str]:
    """The hinted columns that are none of `columns`."""
    if hints is None:
        return []
    present = {c.casefold() for c in columns}
    return [f.name for f in hints.fields if f.name.casefold() not in present]


class HintsUnmatched(SchemaMismatch):
    def __init__(self, names: Sequence[str], columns: Mapping[str, object]) -> None:
        super().__init__(
            f"format.schema_hints names {', '.join(map(repr, names))}, which the files do not "
            f"have (their columns: {', '.join(columns) or 'none'})"
        )
        self.names = list(names)
