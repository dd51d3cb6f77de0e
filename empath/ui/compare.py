"""The Compare tab: the same messages to two systems, blind as Model A / B until the vote; votes and a
leaderboard."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import partial

import gradio as gr

from empath.arena import CHOICES, CRITERIA, VoteStore
from empath.comparison import systems_for
from empath.pipeline import Components, Conversation, EmpathPipeline
from empath.ui.streaming import FIRST, REFUSED, stream_reply

RANDOM = "random"
LEADERBOARD_COLUMNS = ["system", "comparisons", "criterion_votes", "wins", "losses", "ties", "win_rate", *CRITERIA]


def comparison_systems(pipeline: EmpathPipeline, other_models: list[str] = ()) -> dict:
    """System name -> (pipeline, components): Empath, the base model, each ablation, and any other models
    (``EMPATH_COMPARE_MODELS``: comma-separated local folders, Hub id@revision, or ``openai:<model>[@<base url>]``
    for a model behind an OpenAI-compatible server (``empath.remote``), each prompted like Empath)."""
    systems = {name: (pipeline, components) for name, components in systems_for(pipeline).items()}
    for ref in other_models:
        systems[f"Other model: {ref}"] = (pipeline.with_base_model(ref), Components(adapter=False))
    return systems


def board_rows(votes: VoteStore):
    """The leaderboard as a table."""
    import pandas as pd

    return pd.DataFrame(votes.leaderboard(), columns=LEADERBOARD_COLUMNS)


@dataclass(eq=False)  # compared by identity, like the Gradio components it holds
class CompareTab:
    """The Compare tab's components and its event handlers. The comparison (``pair``) is a dict: the two
    systems, their conversations, the messages, each side's replies and strategies, and whether it has a vote."""

    systems: dict
    votes: VoteStore
    pair: gr.State
    system_a: gr.Dropdown
    system_b: gr.Dropdown
    new_pair: gr.Button
    chat_a: gr.Chatbot
    chat_b: gr.Chatbot
    message: gr.Textbox
    send: gr.Button
    vote_radios: list[gr.Radio]  # one per criterion, in CRITERIA's order
    vote_button: gr.Button
    reveal: gr.Markdown
    board: gr.Dataframe

    def draw_pair(self, a: str, b: str) -> dict:
        """A fresh comparison of systems ``a`` and ``b`` (RANDOM: any other one)."""
        names = list(self.systems)
        a = a if a != RANDOM else random.choice([n for n in names if n != b])
        b = b if b != RANDOM else random.choice([n for n in names if n != a])
        if a == b:
            raise ValueError("Pick two different systems.")
        return {"systems": [a, b], "conversations": [Conversation(), Conversation()], "messages": [],
                "replies": [[], []], "strategies": [[], []], "voted": False}

    def start_pair(self, a, b) -> dict:
        """The "New comparison" button."""
        try:
            state = self.draw_pair(a, b)
        except ValueError as exc:
            gr.Warning(str(exc))
            return {self.reveal: f"⚠️ {exc}"}
        return {self.pair: state, self.chat_a: [], self.chat_b: [],
                self.reveal: "New comparison ready: send a message."}

    def compare(self, text, state, hist_a, hist_b, a, b):
        """Streams the replies of both systems to ``text``, one after the other (a new comparison once voted)."""
        if not state or state.get("voted"):
            try:
                state, hist_a, hist_b = self.draw_pair(a, b), [], []
            except ValueError as exc:
                gr.Warning(str(exc))
                yield {self.message: text, self.reveal: f"⚠️ {exc}"}
                return
        histories, replies = [list(hist_a or []), list(hist_b or [])], []
        for side, (name, conv) in enumerate(zip(state["systems"], state["conversations"])):
            system_pipeline, components = self.systems[name]
            start = partial(system_pipeline.stream, conv, text, components=components)
            # Blind until the vote: no [Strategy] tag on either side (only some systems predict one).
            for step in stream_reply(start, text, histories[side], blind=True, contain_failures=True):
                histories[side] = step.history
                update = {self.pair: state, self.chat_a: histories[0], self.chat_b: histories[1], self.reveal: ""}
                if step.stage == REFUSED:  # the typed text stays in the box; a failed reply shows in its panel only
                    yield {**update, self.message: text, self.reveal: step.problem}
                    return
                if step.stage == FIRST and side == 0:  # later updates leave a newly typed message alone
                    update[self.message] = ""
                yield update
            result = step.result
            state.setdefault("strategies", [[], []])[side].append(
                "safety reply" if result.crisis else result.strategy or "none")
            replies.append(result.error and f"⚠️ {result.error}" or result.notice and f"ℹ️ {result.notice}"
                           or result.response)
        state["messages"].append(text)
        for side, reply in enumerate(replies):
            state["replies"][side].append(reply)
        yield {self.pair: state, self.chat_a: histories[0], self.chat_b: histories[1], self.reveal: ""}

    def vote(self, state, *choices) -> dict:
        """Stores the vote on each criterion and reveals the two systems and their strategies."""
        if not state or not state.get("messages"):
            gr.Warning("Send at least one message to both models before voting.")
            return {self.pair: state, self.reveal: ""}
        if state.get("voted"):
            gr.Warning("This comparison has a vote already: start a new comparison.")
            return {self.pair: state}
        a, b = state["systems"]
        try:
            self.votes.record(a, b, dict(zip(CRITERIA, choices)),
                              {"messages": state["messages"], "replies_a": state["replies"][0],
                               "replies_b": state["replies"][1]})
        except ValueError as exc:
            gr.Warning(str(exc))
            return {self.pair: state, self.reveal: f"⚠️ {exc}"}
        state = {**state, "voted": True}
        used = [", ".join(s) for s in state.get("strategies", [[], []])]
        reveal = (f"Thanks! **Model A** was *{a}* (strategies: {used[0] or '—'}), **Model B** was *{b}* "
                  f"(strategies: {used[1] or '—'}).")
        return {self.pair: state, self.reveal: reveal, self.board: board_rows(self.votes),
                **{radio: None for radio in self.vote_radios}}


def build_compare_tab(systems: dict, votes: VoteStore) -> CompareTab:
    """The Compare tab, laid out and wired; call inside ``gr.Blocks``."""
    with gr.Tab("Compare"):
        gr.Markdown("Send the same messages to two systems. Their names stay hidden as **Model A** / **Model B** "
                    "until you vote. Votes (with this comparison) are stored locally; nothing is stored without "
                    "a vote.")
        pair = gr.State(None)
        with gr.Row():
            system_a = gr.Dropdown([RANDOM] + list(systems), value=RANDOM, label="Model A system", elem_id="sys-a")
            system_b = gr.Dropdown([RANDOM] + list(systems), value=RANDOM, label="Model B system", elem_id="sys-b")
            new_pair = gr.Button("New comparison", elem_id="new-pair")
        with gr.Row():
            chat_a = gr.Chatbot(label="Model A", height="min(360px, 40vh)", elem_id="chat-a")
            chat_b = gr.Chatbot(label="Model B", height="min(360px, 40vh)", elem_id="chat-b")
        message = gr.Textbox(label="Seeker message", lines=2, elem_id="cmp-message")
        send = gr.Button("Send to both", variant="primary", elem_id="cmp-send")
        with gr.Row():
            vote_radios = [gr.Radio(list(CHOICES), label=c) for c in CRITERIA]
        vote_button = gr.Button("Submit vote")
        reveal = gr.Markdown("", label="Comparison status", elem_id="reveal")
        gr.Markdown("**Leaderboard.** *comparisons*: votes submitted; *criterion_votes*: the criteria judged in "
                    "them (up to 5 per comparison). Wins, losses, ties and the win rate count criterion votes; "
                    "ties count half.")
        board = gr.Dataframe(value=lambda: board_rows(votes), interactive=False, elem_id="leaderboard",
                             label="Leaderboard")
    tab = CompareTab(systems, votes, pair, system_a, system_b, new_pair, chat_a, chat_b, message, send, vote_radios,
                     vote_button, reveal, board)
    _wire_compare(tab)
    return tab


def _wire_compare(tab: CompareTab) -> None:
    tab.new_pair.click(tab.start_pair, [tab.system_a, tab.system_b], [tab.pair, tab.chat_a, tab.chat_b, tab.reveal],
                       api_name="new_comparison", concurrency_limit=None)
    tab.send.click(tab.compare, [tab.message, tab.pair, tab.chat_a, tab.chat_b, tab.system_a, tab.system_b],
                   [tab.pair, tab.chat_a, tab.chat_b, tab.message, tab.reveal], api_name="compare")
    tab.vote_button.click(tab.vote, [tab.pair, *tab.vote_radios], [tab.pair, tab.reveal, tab.board, *tab.vote_radios],
                          api_name="vote", concurrency_limit=None)
