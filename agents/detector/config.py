"""The detector's settings (non-state rockets, unresolved actors, severities, the learned decision) and the
alert model they select."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..alert_model import AlertModel, load_alert_model
from .records import KINDS, MODALITIES, default_severity


@dataclass(frozen=True)
class DetectorConfig:
    """Settings: non-state rocket fire alerting, unresolved actors, and the kind → severity map.

    ``severity_map`` maps a kind to a severity for every modality, or to ``{"occurred": ..,
    "warning": ..}`` (warning = possible or threatened); kinds it leaves out follow the taxonomy.
    """

    alert_non_state_rockets: bool = False
    alert_unknown_actor: bool = True
    severity_map: Mapping[str, str | Mapping[str, str]] = field(default_factory=dict)
    min_confidence: float = 0.0
    #: the learned alert decision (:mod:`wirewatch.agents.alert_model`); off, the rules decide alone
    learned: bool = True
    #: directory of a user's retrained alert model (WIREWATCH_ALERT_MODEL); empty: the shipped one
    alert_model: str = ""

    def __post_init__(self) -> None:
        if self.learned:
            # load (once per process) and check the alert model now: a bad model file stops start-up with a
            # clear error instead of failing on the first article
            alert_model(self)

    def severity(self, kind: str, modality: str) -> str:
        mapped = self.severity_map.get(kind)
        if isinstance(mapped, str):
            return mapped
        if isinstance(mapped, Mapping):
            key = "occurred" if modality == "occurred" else "warning"
            if key in mapped:
                return str(mapped[key])
        return default_severity(kind, modality)


def alert_model(config: DetectorConfig) -> AlertModel:
    """The configured alert model (WIREWATCH_ALERT_MODEL, else the shipped one), loaded once per process."""
    return load_alert_model(config.alert_model or None, KINDS, MODALITIES)
