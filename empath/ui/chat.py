"""The Chat tab: streaming replies, the side panel that explains them, and expert intervention."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import gradio as gr

from empath.generation import SamplingSettings
from empath.pipeline import AUTO, Conversation, EmpathPipeline
from empath.strategies import STRATEGY_NAMES
from empath.ui.panels import WhyPanel, banner_text
from empath.ui.streaming import FINAL, FIRST, stream_reply

DEFAULTS = SamplingSettings()  # the app's decoding: the controls start there


@dataclass(eq=False)  # compared by identity, like the Gradio components it holds
class ChatControls:
    """Expert intervention (persona, strategy, language) and sampling settings."""

    role: gr.Dropdown
    strategy: gr.Dropdown
    lang: gr.Radio
    temperature: gr.Slider
    top_p: gr.Slider
    max_tokens: gr.Slider
    persona_voice: gr.Slider

    @classmethod
    def build(cls, pipeline: EmpathPipeline) -> ChatControls:
        """Creates the controls in a closed accordion."""
        role_choices = [("Auto (role matching)", AUTO)] + [
            (f"{r.name_en} · {r.name_zh} ({pipeline.roles.topic(r.topic).name_en})", r.id) for r in pipeline.roles]
        strategy_choices = [("Auto (strategy prediction)", AUTO)] + [(s, s) for s in STRATEGY_NAMES]
        with gr.Accordion("Controls (expert intervention and sampling)", open=False):
            with gr.Row():
                role = gr.Dropdown(role_choices, value=AUTO, label="Persona (id or name)", elem_id="role",
                                   allow_custom_value=True)  # names like "Monkey King" resolve too
                strategy = gr.Dropdown(strategy_choices, value=AUTO, elem_id="strategy-override",
                                       label="Strategy for the next reply (then back to Auto)")
                lang = gr.Radio(["auto", "en", "zh"], value="auto", label="Language")
            with gr.Row():
                temperature = gr.Slider(0.0, 1.5, value=DEFAULTS.temperature, step=0.05,
                                        label=f"Temperature (0: greedy; else from the {DEFAULTS.top_k} likeliest tokens)")
                top_p = gr.Slider(0.05, 1.0, value=DEFAULTS.top_p, step=0.05, label="Top-p")
                max_tokens = gr.Slider(16, 512, value=DEFAULTS.max_new_tokens, step=16, label="Max new tokens")
                # the opt-in persona lexicon (README "Persona voice"): more of the persona, less overlap with humans
                persona_voice = gr.Slider(0.0, 8.0, value=DEFAULTS.persona_lexicon, step=0.5, elem_id="persona-voice",
                                          label="Persona voice: bonus for the persona's own words "
                                                "(0: off; 4.5 tested; local models only)")
        return cls(role, strategy, lang, temperature, top_p, max_tokens, persona_voice)


@dataclass(eq=False)  # compared by identity, like the Gradio components it holds
class ChatTab:
    """The Chat tab's components and its event handlers."""

    pipeline: EmpathPipeline
    conversation: gr.State  # a Conversation, created on the first message
    chatbot: gr.Chatbot
    message: gr.Textbox
    send: gr.Button
    new_chat: gr.Button
    export: gr.Button
    export_file: gr.File
    status: gr.Markdown
    panel: WhyPanel
    controls: ChatControls

    def outputs(self) -> list:
        """What /chat and /new_conversation update, in the order of their API returns."""
        return [self.chatbot, self.message, self.conversation, *self.panel.components(), self.status,
                self.controls.strategy]

    def chat(self, text, history, conv, role, strategy, lang, temp, p, max_new, voice=DEFAULTS.persona_lexicon):
        """Streams the reply to ``text``; a refused or failed turn keeps the typed text and the override."""
        conv = conv or Conversation()

        def start():
            settings = SamplingSettings(temperature=temp, top_p=p, max_new_tokens=int(max_new),
                                        persona_lexicon=float(voice))
            return self.pipeline.stream(conv, text, role=role, strategy=strategy, lang=lang, settings=settings)

        panels = {}
        for step in stream_reply(start, text, history):
            update = {self.chatbot: step.history, self.conversation: conv, self.status: step.problem}
            if step.stage == FIRST:
                panels = self.panel.showing(self.pipeline, step.result)
                # The accepted message leaves the box now; later updates leave the box alone, so a message typed
                # while the reply streams stays there (and Send, pressed meanwhile, sends it once this one ends).
                update[self.message] = ""
            if step.stage in (FIRST, FINAL):
                update.update(panels)
            if step.problem:  # refused or failed: the typed text comes back and a strategy override is kept
                update.update({self.message: text, self.controls.strategy: strategy})
            elif step.stage == FINAL:  # a strategy override is for one reply: the control goes back to Auto
                update[self.controls.strategy] = AUTO
            yield update

    def reset(self) -> dict:
        """A new conversation: everything as before the first message."""
        return {self.chatbot: [], self.message: "", self.conversation: Conversation(), **self.panel.starting(),
                self.status: "", self.controls.strategy: AUTO}

    @staticmethod
    def export_json(conv):
        """The conversation as a JSON file to download."""
        if conv is None or not conv.turns:
            gr.Warning("Nothing to export yet.")
            return gr.update(visible=False)
        # Written only because the user asked for the export; served back once from Gradio's cache.
        path = os.path.join(tempfile.mkdtemp(prefix="empath-"), f"empath-{conv.id}.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(conv.to_json())
        return gr.update(value=path, visible=True)


def build_chat_tab(pipeline: EmpathPipeline) -> ChatTab:
    """The Chat tab, laid out and wired; call inside ``gr.Blocks``."""
    with gr.Tab("Chat"):
        conversation = gr.State(None)
        banner = gr.Markdown(banner_text(), visible=False, elem_id="crisis-banner", label="Crisis resources")
        with gr.Row():
            with gr.Column(scale=3):
                # At most half the screen, so the message box and Send stay in the first screen on phones.
                chatbot = gr.Chatbot(label="Conversation", height="min(480px, 45vh)", elem_id="chatbot")
                message = gr.Textbox(label="Your message", placeholder="Tell me what is on your mind…", lines=2,
                                     elem_id="message")
                with gr.Row():
                    send = gr.Button("Send", variant="primary", elem_id="send")
                    new_chat = gr.Button("New conversation")
                    export = gr.Button("Export JSON")
                export_file = gr.File(label="Conversation export", visible=False)
                status = gr.Markdown("", elem_id="status", label="Status")
            with gr.Column(scale=2):
                panel = WhyPanel.build(banner)
        tab = ChatTab(pipeline, conversation, chatbot, message, send, new_chat, export, export_file, status, panel,
                      ChatControls.build(pipeline))
    _wire_chat(tab)
    return tab


def _wire_chat(tab: ChatTab) -> None:
    controls = tab.controls
    inputs = [tab.message, tab.chatbot, tab.conversation, controls.role, controls.strategy, controls.lang,
              controls.temperature, controls.top_p, controls.max_tokens, controls.persona_voice]
    # One event for the button and Enter; "always_last": Send pressed while a reply streams is not dropped but
    # runs when that reply is done, with what is then in the box.
    gr.on([tab.send.click, tab.message.submit], tab.chat, inputs, tab.outputs(), api_name="chat",
          trigger_mode="always_last")
    tab.new_chat.click(tab.reset, None, tab.outputs(), api_name="new_conversation", concurrency_limit=None)
    tab.export.click(tab.export_json, tab.conversation, tab.export_file, api_name="export", concurrency_limit=None)
