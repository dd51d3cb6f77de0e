"""The whole app: a header and the Chat, Compare and About tabs."""

from __future__ import annotations

import gradio as gr

from empath.arena import VoteStore
from empath.pipeline import EmpathPipeline
from empath.ui.chat import build_chat_tab
from empath.ui.compare import build_compare_tab, comparison_systems
from empath.ui.panels import about_markdown

HEADER = ("# Empath\nEmotional support from a matched character, following professional helping skills. "
          "**A research demo — not therapy, not a diagnosis.**")


def build_app(pipeline: EmpathPipeline, votes: VoteStore | None = None, other_models: list[str] = ()) -> gr.Blocks:
    """The Gradio app over ``pipeline``; votes go to ``votes`` (default: the local SQLite store)."""
    systems = comparison_systems(pipeline, other_models)
    with gr.Blocks(title="Empath") as demo:
        gr.Markdown(HEADER)
        build_chat_tab(pipeline)
        build_compare_tab(systems, votes or VoteStore())
        build_about_tab()
    return demo


def build_about_tab() -> None:
    """The About tab: model card and usage policy."""
    with gr.Tab("About"):
        gr.Markdown(about_markdown())
