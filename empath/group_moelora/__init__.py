"""Group MoELoRA (paper Section 5.1): a role group and a strategy group of LoRA experts on any causal LM.

A standalone PEFT-style tuner: ``config`` (GroupMoELoraConfig), ``layer`` (the adapted projection and the gates),
``model`` (injection, routing of calls, merging), ``routing`` (route values, :class:`Route`), ``persistence``
(save / load / Hub), ``export`` (one route as a plain PEFT LoRA) and ``training`` (collators, Trainer). It imports
nothing else from ``empath``: route names, their texts and the text encoder come from the caller.

```python
from empath.group_moelora import GroupMoELoraConfig, get_group_moelora_model
config = GroupMoELoraConfig(role_names=["doraemon", "juliet"], strategy_names=["Question", "Self-disclosure"],
                            embedding_init="learned")
model = get_group_moelora_model(base, config)
out = model(**batch, role_ids=..., strategy_ids=...)
with model.route(role="doraemon", strategy="Question"):
    model.generate(**inputs)
```
"""

from .config import AdapterConfigError, GroupMoELoraConfig
from .layer import GroupGate, GroupMoELoraLayer
from .model import GroupMoELoraModel, get_group_moelora_model
from .persistence import AdapterLoadError
from .routing import Route, RoutingError

__all__ = [
    "AdapterConfigError",
    "AdapterLoadError",
    "GroupGate",
    "GroupMoELoraConfig",
    "GroupMoELoraLayer",
    "GroupMoELoraModel",
    "Route",
    "RoutingError",
    "get_group_moelora_model",
]
