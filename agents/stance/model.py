"""Stance stage 5b: the learned polarity of a (speaker, target) pair, and the model file it comes from.

The model is a :class:`~wirewatch.agents.learning.linear.LinearModel` (favor / against / neutral,
temperature-calibrated) over :mod:`.features`. It ships in ``data/models/stance/stance.npz`` (+ ``stance.json``,
+ the model card ``stance.md``); ``WIREWATCH_STANCE_MODEL`` names another one (the ``.npz`` file, or a directory holding
``stance.npz``) written by ``wirewatch train stance``. It is loaded once per process: :func:`configure`
at start-up (a missing or broken file fails there, with a :class:`ModelFileError`), then
:func:`current_model` for every doc.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
from spacy.language import Language

from ..learning.linear import LinearModel, ModelFileError, probabilities
from .features import HASH_DIM, VECTOR_DIM, FeatureConfig
from .lexicon import load_lexicon
from .topic import SPEC as TOPIC_SPEC

MODEL_NAME = "stance"
#: What every stance model's spec must say; the feature groups it uses may differ (FeatureConfig.from_spec).
REQUIRED_SPEC = {"features": "stance-pair", "version": 4, "hash_dim": HASH_DIM}

_configured: str | None = None


@dataclass(frozen=True)
class StanceModel:
    linear: LinearModel
    config: FeatureConfig
    path: str
    topic: LinearModel | None = None  # the target detector of implied pairs (None: named targets only)


def shipped_path() -> Path:
    return Path(str(files("wirewatch.agents") / "data" / "models" / MODEL_NAME / f"{MODEL_NAME}.npz"))


def topic_path(file: Path) -> Path:
    """The target detector saved beside the polarity model ``file``."""
    return file.with_name(f"{file.stem}_topic.npz")


def model_file(path: str | Path) -> Path:
    """The ``.npz`` a user names: the file itself, or ``stance.npz`` in the directory named."""
    p = Path(path).expanduser()
    return p / f"{MODEL_NAME}.npz" if p.is_dir() else p


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> StanceModel:
    """The stance model at ``path`` (None: the shipped one), read once per process and path."""
    file = model_file(path) if path else shipped_path()
    linear = LinearModel.load(file, spec=REQUIRED_SPEC)
    if tuple(linear.labels) != ("favor", "against", "neutral"):
        raise ModelFileError(f"{file}: labels {list(linear.labels)}, a stance model has favor, against, neutral")
    topic = None
    if topic_path(file).exists():  # a model trained without implied pairs has none
        topic = LinearModel.load(topic_path(file), spec=TOPIC_SPEC)
        if set(topic.labels) - set(load_lexicon().targets):
            raise ModelFileError(f"{topic_path(file)}: targets {list(topic.labels)} are not all in the lexicon")
    return StanceModel(linear, FeatureConfig.from_spec(linear.spec), str(file), topic)


def configure(path: str | None) -> StanceModel:
    """Use the model at ``path`` (WIREWATCH_STANCE_MODEL; empty or None: the shipped one) from now on in this
    process, loading it now so that a bad file stops start-up."""
    global _configured
    model = load_model(path or None)
    _configured = path or None
    return model


def check_pipeline(model: StanceModel, nlp: Language) -> None:
    """A model that reads the parser's token vectors needs a pipeline that makes them, as wide as it was
    trained on (a transformer pipeline or another tok2vec width would fail on every article)."""
    if not model.config.vector:
        return
    doc = nlp("Talks resumed.")
    width = doc.tensor.shape[1] if doc.tensor is not None and doc.tensor.ndim == 2 and len(doc.tensor) else 0
    if width != VECTOR_DIM:
        raise ModelFileError(
            f"{model.path}: the stance model reads {VECTOR_DIM}-wide token vectors; this spaCy pipeline gives "
            f"{width or 'none'} (retrain it with this pipeline: wirewatch train stance)"
        )


def current_model() -> StanceModel:
    """The configured model (the shipped one unless :func:`configure` named another)."""
    return load_model(_configured)


def choose(logits: np.ndarray) -> int:
    """Of several pairs that stand for the same speaker and target, the row whose decision is surest."""
    return int(np.argmax(probabilities(logits).max(axis=1)))
