"""Empath's Gradio UI: Chat (streaming, why-panel, expert intervention), Compare (blind A/B with votes and a
leaderboard) and About. ``app.py`` at the repository root serves it."""

from empath.ui.blocks import build_app
from empath.ui.compare import comparison_systems

__all__ = ["build_app", "comparison_systems"]
