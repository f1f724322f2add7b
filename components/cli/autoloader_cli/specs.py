"""Ingestion specs as files: YAML (or JSON) documents of

    apiVersion: autoloader/v1
    kind: Ingestion
    metadata: {name: orders, labels: {team: sales}}
    spec: {source: …, format: …, destination: …}   # the API's create body, without the name

A file may hold several documents (`---`); a directory is read recursively (*.yaml, *.yml,
*.json, in path order). Each document remembers where it came from, so an error the API finds in
a field is shown at that field's line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "autoloader/v1"
KIND = "Ingestion"
APPLY_SET_LABEL = "autoloader.dev/apply-set"  # marks what one set of files manages
SUFFIXES = (".yaml", ".yml", ".json")


class SpecError(Exception):
    """A document that is not an ingestion spec, or one the API refused: where, and why."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass
class SpecDocument:
    path: Path
    index: int  # 1-based position of the document in its file
    name: str
    labels: dict[str, str]
    spec: dict[str, Any]
    node: yaml.Node | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.path} (document {self.index})"

    def where_line(self, line: int) -> str:
        return f"{self.path} (document {self.index}, line {line})"

    def body(self, apply_set: str | None = None) -> dict[str, Any]:
        """The API's create body; `apply_set` adds the label that `apply --prune` goes by."""
        labels = dict(self.labels)
        if apply_set:
            labels[APPLY_SET_LABEL] = apply_set
        return {**self.spec, "name": self.name, "labels": labels}

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of a field the API names by `loc` (body.source.uri), as near as the file
        has it (the nearest parent present)."""
        parts = [p for p in loc if p != "body"]
        if parts[:1] == ["name"]:
            path: list[str | int] = ["metadata", "name"]
        elif parts[:1] == ["labels"]:
            path = ["metadata", "labels", *parts[1:]]
        else:
            path = ["spec", *parts]
        node, line = self.node, self.node.start_mark.line + 1 if self.node else None
        for part in path:
            if not isinstance(node, yaml.MappingNode):
                break
            child = next((v for k, v in node.value if k.value == str(part)), None)
            if child is None:
                break
            node, line = child, child.start_mark.line + 1
        return line


def read_specs(path: Path) -> list[SpecDocument]:
    """Every document under `path`; SpecError for the first that is not an ingestion spec."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    elif path.exists():
        files = [path]
    else:
        raise SpecError(str(path), "no such file or directory")
    documents = [document for file in files for document in _read_file(file)]
    if not documents:  # and never an empty set to prune everything against
        raise SpecError(str(path), "holds no spec documents (*.yaml, *.yml, *.json)")
    seen: dict[str, SpecDocument] = {}
    for document in documents:
        if document.name in seen:
            raise SpecError(
                document.where,
                f"metadata.name {document.name!r} is also {seen[document.name].where}",
            )
        seen[document.name] = document
    return documents


def _read_file(path: Path) -> list[SpecDocument]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(str(path), f"cannot read it ({error})") from None
    loader = yaml.SafeLoader(text)
    documents: list[SpecDocument] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            documents.append(_document(path, len(documents) + 1, node, data))
    except yaml.YAMLError as error:
        raise SpecError(str(path), f"not valid YAML: {error}") from None
    finally:
        loader.dispose()
    return documents


def _document(path: Path, index: int, node: yaml.Node, data: Any) -> SpecDocument:
    where = f"{path} (document {index}, line {node.start_mark.line + 1})"
    if not isinstance(data, dict):
        raise SpecError(where, "a document is a mapping with apiVersion, kind, metadata, spec")
    if data.get("apiVersion") != API_VERSION or data.get("kind") != KIND:
        raise SpecError(where, f"expected apiVersion: {API_VERSION} and kind: {KIND}")
    unknown = sorted(set(data) - {"apiVersion", "kind", "metadata", "spec"})
    if unknown:
        raise SpecError(where, f"unknown top-level field(s): {', '.join(unknown)}")
    metadata, spec = data.get("metadata"), data.get("spec")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise SpecError(where, "metadata.name (a string) is required")
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict):
        raise SpecError(where, "metadata.labels is a mapping of strings")
    if not isinstance(spec, dict):
        raise SpecError(where, "spec (a mapping: source, format, destination, …) is required")
    if "name" in spec or "labels" in spec:
        raise SpecError(where, "spec takes no name or labels: they belong in metadata")
    return SpecDocument(
        path=path,
        index=index,
        name=metadata["name"],
        labels={str(k): str(v) for k, v in labels.items()},
        spec=spec,
        node=node,
    )


def as_document(ingestion: dict[str, Any]) -> dict[str, Any]:
    """An ingestion as the API answers it, as the spec document that `apply` takes back."""
    metadata: dict[str, Any] = {"name": ingestion["name"]}
    if ingestion.get("labels"):
        metadata["labels"] = ingestion["labels"]
    spec = {key: ingestion[key] for key in SPEC_FIELDS if key != "labels"}
    if ingestion.get("status") == "paused":
        spec["paused"] = True  # created paused; applying changes no status (pause, resume do)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


# The fields of an ingestion a spec describes (all but its name), as the API answers them.
SPEC_FIELDS = (
    "source",
    "format",
    "destination",
    "schedule",
    "batch",
    "work_queue",
    "cluster",
    "labels",
)
