"""The alert taxonomy (``data/taxonomy.json``) as typed, frozen data: kinds, families, precedence,
labels, default severities, modalities and severity levels. Every list of kinds or levels in wirewatch
is derived from :data:`TAXONOMY`; a test checks the detector's cues and the JSON Schemas against it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from importlib.resources import files
from types import MappingProxyType
from typing import Any


class TaxonomyError(ValueError):
    """taxonomy.json is malformed: an unknown or missing key, or a value that names nothing."""


def _take(cls: type, data: Any, where: str) -> dict[str, Any]:
    """``data``'s values for the fields of ``cls``; unknown or missing keys are refused."""
    if not isinstance(data, dict):
        raise TaxonomyError(f"{where}: expected an object, not {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names - {"_doc"})
    if unknown:
        raise TaxonomyError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    missing = sorted(names - set(data))
    if missing:
        raise TaxonomyError(f"{where}: missing key(s) {', '.join(missing)}")
    return {name: data[name] for name in names}


@dataclass(frozen=True)
class Modality:
    name: str
    rank: int  # which modality wins when findings merge into one incident (higher wins)
    label: str  # the words of an alert title: "possible launch"


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # the words of an alert title: "intermediate-range ballistic missile"
    family: str  # the incident family: kinds of one family and actor merge into one incident
    rank: int  # which kind wins when one event is described with several (higher wins)
    severity: Mapping[str, str]  # modality → default severity (WIREWATCH_SEVERITY_MAP overrides it)


@dataclass(frozen=True)
class Taxonomy:
    severities: tuple[str, ...]  # ascending: the rank of a severity is its index
    modalities: tuple[Modality, ...]
    families: tuple[str, ...]
    wildcard_family: str  # the family of a kind not known to be long- or short-range; joins any family
    fallback_severity: Mapping[str, str]  # modality → severity of a kind without an entry
    kinds: tuple[Kind, ...]

    @cached_property
    def kind_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds)

    @cached_property
    def modality_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.modalities)

    @cached_property
    def severity_rank(self) -> dict[str, int]:
        return {name: rank for rank, name in enumerate(self.severities)}

    @cached_property
    def modality_rank(self) -> dict[str, int]:
        return {m.name: m.rank for m in self.modalities}

    @cached_property
    def kind_rank(self) -> dict[str, int]:
        return {k.name: k.rank for k in self.kinds}

    @cached_property
    def kind_family(self) -> dict[str, str]:
        return {k.name: k.family for k in self.kinds}

    @cached_property
    def kind_labels(self) -> dict[str, str]:
        return {k.name: k.label for k in self.kinds}

    @cached_property
    def modality_labels(self) -> dict[str, str]:
        return {m.name: m.label for m in self.modalities}

    @cached_property
    def kind_severity(self) -> dict[str, Mapping[str, str]]:
        return {k.name: k.severity for k in self.kinds}

    def default_severity(self, kind: str, modality: str) -> str:
        """The severity of a finding of ``kind`` and ``modality`` unless WIREWATCH_SEVERITY_MAP says otherwise."""
        return self.kind_severity.get(kind, self.fallback_severity)[modality]

    def check(self) -> Taxonomy:
        """Refuse a taxonomy whose parts name things it does not define."""
        modalities = set(self.modality_names)
        if len(self.kind_names) != len(set(self.kind_names)):
            raise TaxonomyError("kinds: a name is used twice")
        if len(set(self.kind_rank.values())) != len(self.kinds):
            raise TaxonomyError("kinds: two kinds have the same rank")
        if self.wildcard_family not in self.families:
            raise TaxonomyError(f"wildcard_family {self.wildcard_family!r} is not one of the families")
        for where, severity in [("fallback_severity", self.fallback_severity)] + [
            (f"kind {k.name!r}", k.severity) for k in self.kinds
        ]:
            if set(severity) != modalities or not set(severity.values()) <= set(self.severities):
                raise TaxonomyError(f"{where}: severity must map every modality to one of the severities")
        for kind in self.kinds:
            if kind.family not in self.families:
                raise TaxonomyError(f"kind {kind.name!r}: family {kind.family!r} is not one of the families")
        return self


def parse_taxonomy(data: Any) -> Taxonomy:
    top = _take(Taxonomy, data, "taxonomy.json")
    return Taxonomy(
        severities=tuple(top["severities"]),
        modalities=tuple(Modality(**_take(Modality, m, f"modality #{i}")) for i, m in enumerate(top["modalities"], 1)),
        families=tuple(top["families"]),
        wildcard_family=top["wildcard_family"],
        fallback_severity=MappingProxyType(dict(top["fallback_severity"])),
        kinds=tuple(
            Kind(**{**(v := _take(Kind, k, f"kind #{i}")), "severity": MappingProxyType(dict(v["severity"]))})
            for i, k in enumerate(top["kinds"], 1)
        ),
    ).check()


def load_taxonomy() -> Taxonomy:
    """The shipped taxonomy (``agents/data/taxonomy.json``)."""
    return parse_taxonomy(json.loads(files("wirewatch.agents").joinpath("data/taxonomy.json").read_text("utf-8")))


TAXONOMY = load_taxonomy()
