"""Empath: role-based emotional support conversations (Group MoELoRA + strategy prediction + experience RAG)."""

__version__ = "0.1.0"
