"""Empath's side of Group MoELoRA: the tuner (``empath.group_moelora``) knows nothing of Empath, so the route names
and texts of the role and strategy banks, the sentence encoder and Hub references are filled in here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union


def load_adapter(base_model, ref: Union[str, os.PathLike], *, revision: Optional[str] = None,
                 is_trainable: bool = False):
    """Load the Group MoELoRA adapter ``ref`` (a folder or a Hub ``org/name[@revision]``) onto ``base_model``."""
    from .group_moelora import GroupMoELoraModel

    return GroupMoELoraModel.from_pretrained(base_model, ref, revision=revision, is_trainable=is_trainable)
