"""Group MoELoRA (paper Section 5.1): a role group and a strategy group of LoRA experts on any causal LM.

```python
from empath.group_moelora import GroupMoELoraConfig, get_group_moelora_model
model = get_group_moelora_model(base, GroupMoELoraConfig())
out = model(**batch, role_ids=..., strategy_ids=...)
with model.route(role="doraemon", strategy="Question"):
    model.generate(**inputs)
```
"""

from .config import AdapterConfigError, GroupMoELoraConfig
from .layer import GroupGate, GroupMoELoraLayer, RoutingError
from .model import AdapterLoadError, GroupMoELoraModel, get_group_moelora_model

__all__ = [
    "AdapterConfigError",
    "AdapterLoadError",
    "GroupGate",
    "GroupMoELoraConfig",
    "GroupMoELoraLayer",
    "GroupMoELoraModel",
    "RoutingError",
    "get_group_moelora_model",
]
