"""Role matching and strategy prediction (paper, Appendix B): the two classifiers that drive the gates.

``RoleMatcher`` reads the seeker's background ``X = [Ques]Q;[Desc]D;[Keys]K`` (Eq. 9) and returns a
probability over the role bank; ``StrategyPredictor`` reads ``Z = X;[Cont]C`` (Eq. 10) and returns a
probability over the eight helping strategies for the next supporter turn.

The backends sit behind one interface, chosen per language by the saved ``config.json``:

``frozen-encoder``  (default) a frozen sentence encoder from :mod:`empath.encoders` + a small MLP head
                    (numpy inference, safetensors weights small enough to ship in the repo).
``sequence-classification``  a fully fine-tuned ``AutoModelForSequenceClassification`` (the paper's
                    setting: Chinese RoBERTa-large, 4 epochs, lr 1e-5, batch 16), trained with
                    ``training/classifier_training.py`` (``transformers.Trainer``).
``similarity``      (role matching only) no head: cosine between the seeker's text and each role's topic
                    description, for a language without training data.

Roles in the bank that a head was not trained on (a persona added without training data) are scored
by similarity between the seeker's text and the role's topic description.

Layout: :mod:`.inputs` (Eq. 9/10 text), :mod:`.features` (strategy features), :mod:`.mlp` (the numpy head),
:mod:`.backends` (the scorers behind :class:`.base.Scorer`; sentence encoders are shared with the other stages
through :mod:`empath.encoder_cache`), :mod:`.folder` (the saved format), :mod:`.role_matching` and :mod:`.strategy_prediction`.

A saved classifier folder holds ``config.json`` plus weight files; ``RoleMatcher.load(None)`` reads the
shipped default in ``empath/data/classifiers``; a Hub ``org/name@revision`` reference also works.
"""

from __future__ import annotations

import os

from ..roles import RoleBank
from .backends import BACKENDS, FrozenEncoderScorer, SequenceClassifierScorer, SimilarityScorer, tokenize_inputs
from .base import (CONFIG_NAME, DEFAULT_CLASSIFIERS, FINETUNED, FORMAT_VERSION, FROZEN, ROLE_TASK, SIMILARITY,
                   STRATEGY_FEATURES, STRATEGY_TASK, ClassifierInputError, Scorer, UnknownLabelError, pick_scorer)
from ..encoder_cache import CachedEncoder, cached_encoder, register_encoder
from .features import N_STRATEGIES, STRUCTURE_DIM, strategy_features, strategy_structure, strategy_texts
from .folder import classifier_folder, load_scorers, read_config, write_section
from .inputs import (background_lang, format_context, format_role_input, format_strategy_input, role_text,
                     strategy_pair)
from .mlp import MLPHead, load_labelled_weights
from .role_matching import KEYWORD_WEIGHT, RoleMatcher, RolePrediction, keyword_role
from .strategy_prediction import StrategyPrediction, StrategyPredictor


def load_classifiers(ref: str | os.PathLike | None = None, roles: RoleBank | None = None) -> tuple[RoleMatcher, StrategyPredictor]:
    """Both classifiers from one folder / Hub repo (``None``: the shipped default)."""
    return RoleMatcher.load(ref, roles=roles), StrategyPredictor.load(ref)


__all__ = [
    "BACKENDS", "CONFIG_NAME", "DEFAULT_CLASSIFIERS", "FINETUNED", "FORMAT_VERSION", "FROZEN", "KEYWORD_WEIGHT",
    "N_STRATEGIES", "ROLE_TASK", "SIMILARITY", "STRATEGY_FEATURES", "STRATEGY_TASK", "STRUCTURE_DIM",
    "CachedEncoder", "ClassifierInputError", "FrozenEncoderScorer", "MLPHead", "RoleMatcher", "RolePrediction",
    "Scorer", "SequenceClassifierScorer", "SimilarityScorer", "StrategyPrediction", "StrategyPredictor",
    "UnknownLabelError", "background_lang", "cached_encoder", "classifier_folder", "format_context",
    "format_role_input", "format_strategy_input", "keyword_role", "load_classifiers", "load_labelled_weights",
    "load_scorers", "pick_scorer", "read_config", "register_encoder", "role_text", "strategy_features",
    "strategy_pair", "strategy_structure", "strategy_texts", "tokenize_inputs", "write_section",
]
