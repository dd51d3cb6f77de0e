"""Empath web app: a thin Gradio UI over ``empath.pipeline.EmpathPipeline``.

Tabs: Chat (streaming, why-panel, expert intervention), Compare (blind A/B with votes and a leaderboard),
About (model card and usage policy). Run ``make run`` or ``python app.py``.

Concurrency: one model copy is shared; generation events run one at a time
(``EMPATH_CONCURRENCY``, default 1) and further requests wait in Gradio's queue.
"""

from __future__ import annotations

import os
import random
import tempfile

import gradio as gr

from empath.arena import CHOICES, CRITERIA, VoteStore
from empath.comparison import systems_for
from empath.generation import SamplingSettings
from empath.pipeline import AUTO, Components, Conversation, EmpathPipeline, InputError, PipelineConfig, TurnResult
from empath.strategies import STRATEGY_NAMES
from empath.ui.panels import (GATES_EXPLAINED, about_markdown, banner_text, emotion_radar, experience_panel,
                              gate_bars, gates_caption, persona_panel, shown, strategy_panel)

RANDOM = "random"
KEEP_PANELS = (gr.skip(),) * 7  # persona, strategy, experience, radar, gates, gates caption, banner


# -- the app ---------------------------------------------------------------------------------------
def comparison_systems(pipeline: EmpathPipeline, other_models: list[str] = ()) -> dict:
    """System name -> (pipeline, components): Empath, the base model, each ablation, and any other models
    (``EMPATH_COMPARE_MODELS``: comma-separated local folders, Hub id@revision, or ``openai:<model>[@<base url>]``
    for a model behind an OpenAI-compatible server (``empath.remote``), each prompted like Empath)."""
    systems = {name: (pipeline, components) for name, components in systems_for(pipeline).items()}
    for ref in other_models:
        systems[f"Other model: {ref}"] = (pipeline.with_base_model(ref), Components(adapter=False))
    return systems


def build_app(pipeline: EmpathPipeline, votes: VoteStore | None = None, other_models: list[str] = ()) -> gr.Blocks:
    votes = votes or VoteStore()
    systems = comparison_systems(pipeline, other_models)
    role_choices = [("Auto (role matching)", AUTO)] + [
        (f"{r.name_en} · {r.name_zh} ({pipeline.roles.topic(r.topic).name_en})", r.id) for r in pipeline.roles]
    strategy_choices = [("Auto (strategy prediction)", AUTO)] + [(s, s) for s in STRATEGY_NAMES]

    with gr.Blocks(title="Empath") as demo:
        gr.Markdown("# Empath\nEmotional support from a matched character, following professional helping skills. "
                    "**A research demo — not therapy, not a diagnosis.**")
        with gr.Tab("Chat"):
            conversation = gr.State(None)  # a Conversation, created on the first message
            banner = gr.Markdown(banner_text(), visible=False, elem_id="crisis-banner", label="Crisis resources")
            with gr.Row():
                with gr.Column(scale=3):
                    # At most half the screen, so the message box and Send stay in the first screen on phones.
                    chatbot = gr.Chatbot(label="Conversation", height="min(480px, 45vh)", elem_id="chatbot")
                    message = gr.Textbox(label="Your message", placeholder="Tell me what is on your mind…",
                                         lines=2, elem_id="message")
                    with gr.Row():
                        send = gr.Button("Send", variant="primary", elem_id="send")
                        new_chat = gr.Button("New conversation")
                        export = gr.Button("Export JSON")
                    export_file = gr.File(label="Conversation export", visible=False)
                    status = gr.Markdown("", elem_id="status", label="Status")
                with gr.Column(scale=2):
                    persona_md = gr.Markdown("**Persona:** chosen on your first message", elem_id="persona",
                                             label="Persona")
                    strategy_md = gr.Markdown("**Strategy:** —", elem_id="strategy", label="Strategy")
                    experience_md = gr.Markdown("**Experience:** —", elem_id="experience", label="Experience")
                    radar = gr.Plot(label="Emotion")
                    gates = gr.Plot(label="Gate weights")
                    gates_md = gr.Markdown(GATES_EXPLAINED, elem_id="gates-caption", label="Gate weights caption")
            with gr.Accordion("Controls (expert intervention and sampling)", open=False):
                with gr.Row():
                    role_dd = gr.Dropdown(role_choices, value=AUTO, label="Persona (id or name)", elem_id="role",
                                          allow_custom_value=True)  # names like "Monkey King" resolve too
                    strategy_dd = gr.Dropdown(strategy_choices, value=AUTO, elem_id="strategy-override",
                                              label="Strategy for the next reply (then back to Auto)")
                    lang_radio = gr.Radio(["auto", "en", "zh"], value="auto", label="Language")
                with gr.Row():
                    temperature = gr.Slider(0.0, 1.5, value=0.7, step=0.05, label="Temperature")
                    top_p = gr.Slider(0.05, 1.0, value=0.95, step=0.05, label="Top-p")
                    max_tokens = gr.Slider(16, 512, value=64, step=16, label="Max new tokens")

            def chat(text, history, conv, role, strategy, lang, temp, p, max_new):
                history = list(history or [])
                conv = conv or Conversation()
                try:
                    settings = SamplingSettings(temperature=temp, top_p=p, max_new_tokens=int(max_new))
                    stream = pipeline.stream(conv, text, role=role, strategy=strategy, lang=lang, settings=settings)
                    result = next(stream)
                except (InputError, KeyError, ValueError) as exc:
                    problem = f"⚠️ {exc.args[0] if isinstance(exc, KeyError) else exc}"
                    gr.Warning(problem)
                    yield history, text, conv, *KEEP_PANELS, problem, strategy  # the typed text stays in the box
                    return
                chat_shown = history + [{"role": "user", "content": result.message},
                                        {"role": "assistant", "content": shown(result)}]
                panels = (persona_panel(pipeline, result), strategy_panel(result), experience_panel(result),
                          emotion_radar(result.emotion),
                          gate_bars(result.gate_weights, crisis=result.crisis, generated=not result.notice),
                          gates_caption(pipeline, result), gr.update(visible=result.crisis_mode))
                # The accepted message leaves the box now; later updates leave the box alone, so a message typed
                # while the reply streams stays there (and Send, pressed meanwhile, sends it once this one ends).
                yield chat_shown, "", conv, *panels, "", gr.skip()
                for result in stream:  # only the reply changes while tokens stream in
                    chat_shown[-1] = {"role": "assistant", "content": shown(result)}
                    yield chat_shown, gr.skip(), conv, *KEEP_PANELS, "", gr.skip()
                if result.error:  # the conversation is kept; the failed reply is marked, the text restored
                    chat_shown[-1] = {"role": "assistant", "content": f"⚠️ {result.error}"}
                    yield chat_shown, text, conv, *panels, f"⚠️ {result.error}", strategy  # no reply: override kept
                else:  # a strategy override is for one reply: the control goes back to Auto
                    yield chat_shown, gr.skip(), conv, *panels, "", AUTO

            chat_inputs = [message, chatbot, conversation, role_dd, strategy_dd, lang_radio, temperature, top_p,
                           max_tokens]
            chat_outputs = [chatbot, message, conversation, persona_md, strategy_md, experience_md, radar, gates,
                            gates_md, banner, status, strategy_dd]
            # One event for the button and Enter; "always_last": Send pressed while a reply streams is not
            # dropped but runs when that reply is done, with what is then in the box.
            gr.on([send.click, message.submit], chat, chat_inputs, chat_outputs, api_name="chat",
                  trigger_mode="always_last")

            def reset():
                return [], "", Conversation(), "**Persona:** chosen on your first message", "**Strategy:** —", \
                    "**Experience:** —", None, None, GATES_EXPLAINED, gr.update(visible=False), "", AUTO

            new_chat.click(reset, None, chat_outputs, api_name="new_conversation", concurrency_limit=None)

            def export_json(conv):
                if conv is None or not conv.turns:
                    gr.Warning("Nothing to export yet.")
                    return gr.update(visible=False)
                # Written only because the user asked for the export; served back once from Gradio's cache.
                path = os.path.join(tempfile.mkdtemp(prefix="empath-"), f"empath-{conv.id}.json")
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(conv.to_json())
                return gr.update(value=path, visible=True)

            export.click(export_json, conversation, export_file, api_name="export", concurrency_limit=None)

        with gr.Tab("Compare"):
            gr.Markdown("Send the same messages to two systems. Their names stay hidden as **Model A** / **Model B** "
                        "until you vote. Votes (with this comparison) are stored locally; nothing is stored without "
                        "a vote.")
            pair = gr.State(None)
            with gr.Row():
                sys_a = gr.Dropdown([RANDOM] + list(systems), value=RANDOM, label="Model A system", elem_id="sys-a")
                sys_b = gr.Dropdown([RANDOM] + list(systems), value=RANDOM, label="Model B system", elem_id="sys-b")
                new_pair = gr.Button("New comparison", elem_id="new-pair")
            with gr.Row():
                chat_a = gr.Chatbot(label="Model A", height="min(360px, 40vh)", elem_id="chat-a")
                chat_b = gr.Chatbot(label="Model B", height="min(360px, 40vh)", elem_id="chat-b")
            cmp_message = gr.Textbox(label="Seeker message", lines=2, elem_id="cmp-message")
            cmp_send = gr.Button("Send to both", variant="primary", elem_id="cmp-send")
            with gr.Row():
                vote_radios = [gr.Radio(list(CHOICES), label=c) for c in CRITERIA]
            vote_btn = gr.Button("Submit vote")
            reveal = gr.Markdown("", label="Comparison status", elem_id="reveal")
            gr.Markdown("**Leaderboard.** *comparisons*: votes submitted; *criterion_votes*: the criteria judged in "
                        "them (up to 5 per comparison). Wins, losses, ties and the win rate count criterion votes; "
                        "ties count half.")
            board = gr.Dataframe(value=lambda: _board_rows(votes), interactive=False, elem_id="leaderboard",
                                 label="Leaderboard")

            def draw_pair(a, b) -> dict:
                names = list(systems)
                a = a if a != RANDOM else random.choice([n for n in names if n != b])
                b = b if b != RANDOM else random.choice([n for n in names if n != a])
                if a == b:
                    raise ValueError("Pick two different systems.")
                return {"systems": [a, b], "conversations": [Conversation(), Conversation()], "messages": [],
                        "replies": [[], []], "strategies": [[], []], "voted": False}

            def start_pair(a, b):
                try:
                    state = draw_pair(a, b)
                except ValueError as exc:
                    gr.Warning(str(exc))
                    return gr.skip(), gr.skip(), gr.skip(), f"⚠️ {exc}"
                return state, [], [], "New comparison ready: send a message."

            new_pair.click(start_pair, [sys_a, sys_b], [pair, chat_a, chat_b, reveal], api_name="new_comparison",
                           concurrency_limit=None)

            def compare(text, state, hist_a, hist_b, a, b):
                if not state or state.get("voted"):
                    try:
                        state, hist_a, hist_b = draw_pair(a, b), [], []
                    except ValueError as exc:
                        gr.Warning(str(exc))
                        yield gr.skip(), gr.skip(), gr.skip(), text, f"⚠️ {exc}"
                        return
                hists = [list(hist_a or []), list(hist_b or [])]
                replies = []
                for side, (name, conv) in enumerate(zip(state["systems"], state["conversations"])):
                    system_pipeline, components = systems[name]
                    try:
                        stream = system_pipeline.stream(conv, text, components=components)
                        result = next(stream)
                    except (InputError, KeyError, ValueError) as exc:
                        gr.Warning(str(exc))
                        yield state, hists[0], hists[1], text, f"⚠️ {exc}"
                        return
                    except Exception as exc:  # noqa: BLE001 - any failure shows in this side's panel, as in Chat
                        result = _failed(text, exc)
                    # Blind until the vote: no [Strategy] tag on either side (only some systems predict one).
                    hists[side] = hists[side] + [{"role": "user", "content": result.message},
                                                 {"role": "assistant", "content": shown(result, blind=True)}]
                    box = "" if side == 0 else gr.skip()  # later updates leave a newly typed message alone
                    yield state, hists[0], hists[1], box, ""
                    try:
                        for result in stream if not result.error else ():
                            hists[side][-1] = {"role": "assistant", "content": shown(result, blind=True)}
                            yield state, hists[0], hists[1], gr.skip(), ""
                    except Exception as exc:  # noqa: BLE001 - as above
                        result.error = _failed(text, exc).error
                        hists[side][-1] = {"role": "assistant", "content": shown(result, blind=True)}
                    state.setdefault("strategies", [[], []])[side].append(
                        "safety reply" if result.crisis else result.strategy or "none")
                    replies.append(result.error and f"⚠️ {result.error}" or result.notice and f"ℹ️ {result.notice}"
                                   or result.response)
                state["messages"].append(text)
                for side, reply in enumerate(replies):
                    state["replies"][side].append(reply)
                yield state, hists[0], hists[1], gr.skip(), ""

            cmp_send.click(compare, [cmp_message, pair, chat_a, chat_b, sys_a, sys_b],
                           [pair, chat_a, chat_b, cmp_message, reveal], api_name="compare")

            def vote(state, *choices):
                if not state or not state.get("messages"):
                    gr.Warning("Send at least one message to both models before voting.")
                    return state, "", gr.skip(), *([gr.skip()] * len(CRITERIA))
                if state.get("voted"):
                    gr.Warning("This comparison has a vote already: start a new comparison.")
                    return state, gr.skip(), gr.skip(), *([gr.skip()] * len(CRITERIA))
                a, b = state["systems"]
                try:
                    votes.record(a, b, dict(zip(CRITERIA, choices)),
                                 {"messages": state["messages"], "replies_a": state["replies"][0],
                                  "replies_b": state["replies"][1]})
                except ValueError as exc:
                    gr.Warning(str(exc))
                    return state, f"⚠️ {exc}", gr.skip(), *([gr.skip()] * len(CRITERIA))
                state = {**state, "voted": True}
                used = [", ".join(s) for s in state.get("strategies", [[], []])]
                return (state, f"Thanks! **Model A** was *{a}* (strategies: {used[0] or '—'}), **Model B** was *{b}* "
                               f"(strategies: {used[1] or '—'}).", _board_rows(votes), *([None] * len(CRITERIA)))

            vote_btn.click(vote, [pair, *vote_radios], [pair, reveal, board, *vote_radios], api_name="vote",
                           concurrency_limit=None)

        with gr.Tab("About"):
            gr.Markdown(about_markdown())
    return demo


def _failed(text: str, exc: BaseException) -> TurnResult:
    return TurnResult(message=text, lang="", error=f"generation failed: {type(exc).__name__}: {exc}")


def _board_rows(votes: VoteStore):
    import pandas as pd

    rows = votes.leaderboard()
    columns = ["system", "comparisons", "criterion_votes", "wins", "losses", "ties", "win_rate", *CRITERIA]
    return pd.DataFrame(rows, columns=columns)


def main() -> None:
    pipeline = EmpathPipeline(PipelineConfig.from_env()).warm_up()
    others = [ref.strip() for ref in os.environ.get("EMPATH_COMPARE_MODELS", "").split(",") if ref.strip()]
    demo = build_app(pipeline, other_models=others)
    demo.queue(default_concurrency_limit=int(os.environ.get("EMPATH_CONCURRENCY", "1")))
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))


if __name__ == "__main__":
    main()
