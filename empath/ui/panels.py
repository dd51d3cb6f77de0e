"""What the app shows about a turn: the reply as a chat message, and the side panel that explains it (persona,
strategy, experience, the seeker's emotion radar and the Group MoELoRA gate weights)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import plotly.graph_objects as go

from empath._data import PACKAGE_DATA
from empath.pipeline import EMOTION_DIMENSIONS, EmpathPipeline, TurnResult

SAFETY_TAG = "`[Safety reply]` "
GATES_EXPLAINED = ("Experts are small LoRA weight updates inside the model; for each reply a gate mixes the role "
                   "experts by the persona and the strategy experts by the strategy.")
# The side panel before the first message and after "New conversation".
STARTING_TEXTS = {"persona": "**Persona:** chosen on your first message", "strategy": "**Strategy:** —",
                  "experience": "**Experience:** —", "gates_caption": GATES_EXPLAINED}


# -- the reply as a chat message -------------------------------------------------------------------
def tagged(result) -> str:
    """The reply as shown in the chat: its strategy as a tag in front, as in the paper's figures. A turn the
    loaded model cannot answer in its language shows the notice, marked as such and untagged (no reply)."""
    if getattr(result, "notice", None):
        return f"ℹ️ {result.notice}"
    tag = f"`[{result.strategy}]` " if result.strategy else ""
    return tag + (result.response or "…")


def shown(result, blind: bool = False) -> str:
    """The reply as a chat message: tagged with its strategy (a crisis turn: as a safety reply), an error marked.
    ``blind`` (Compare, before the vote): no tag at all, since only some systems predict a strategy."""
    if result.error:
        return f"⚠️ {result.error}"
    if blind:
        return f"ℹ️ {result.notice}" if getattr(result, "notice", None) else (result.response or "…")
    if result.crisis and not getattr(result, "notice", None):
        return SAFETY_TAG + (result.response or "…")
    return tagged(result)


# -- the side panel -----------------------------------------------------------------------------------
def emotion_radar(emotion: dict | None):
    """The seeker's emotion on the 8 Plutchik dimensions as a radar chart (None: nothing to show)."""
    if not emotion:
        return None
    values = [emotion.get(d, 0) for d in EMOTION_DIMENSIONS]
    fig = go.Figure(go.Scatterpolar(r=values + values[:1], theta=list(EMOTION_DIMENSIONS) + [EMOTION_DIMENSIONS[0]],
                                    fill="toself", name="seeker"))
    fig.update_layout(polar={"radialaxis": {"range": [0, 10]}}, showlegend=False, height=300,
                      margin={"l": 30, "r": 30, "t": 30, "b": 30}, title="Seeker emotion (1-10)")
    return fig


def gate_bars(gates: dict | None, crisis: bool = False, generated: bool = True):
    """The gate weights of the role and strategy experts as bars, or a note saying why there are none."""
    fig = go.Figure()
    if not gates:
        text = ("Crisis turn: no generation happened<br>(a fixed, reviewed safety reply)" if crisis
                else "No reply was generated on this turn" if not generated
                else "No Group MoELoRA adapter in use:<br>prompt-only generation")
        fig.add_annotation(text=text, showarrow=False, font={"size": 14})
        fig.update_layout(height=300, xaxis={"visible": False}, yaxis={"visible": False}, title="Gate weights")
        return fig
    for group, weights in gates.items():
        fig.add_bar(x=[f"{group} {i + 1}" for i in range(len(weights))], y=weights, name=f"{group} experts")
    fig.update_layout(height=300, margin={"l": 30, "r": 10, "t": 30, "b": 60}, title="Gate weights",
                      yaxis={"range": [0, 1]})
    return fig


def gates_caption(pipeline: EmpathPipeline, result) -> str:
    """One line under the gate bars: what an expert is, and the route the weights were computed for."""
    if result.crisis:
        return ("**Gate weights:** none. No generation happened on this crisis turn: the reply is a fixed, reviewed "
                "safety text.")
    if getattr(result, "notice", None):
        return "**Gate weights:** none. Nothing was generated on this turn (see the notice)."
    if not result.gate_weights:
        return "**Gate weights:** none. No Group MoELoRA adapter in use: prompt-only generation."
    role = pipeline.roles.get(result.role)
    strategy = result.strategy or "all strategies evenly (no strategy predicted)"
    return f"{GATES_EXPLAINED} Route: **{role.name_en}** · **{strategy}**."


def persona_panel(pipeline: EmpathPipeline, result) -> str:
    """The matched persona, its topic and how it was chosen."""
    if not result.role:
        return "**Persona:** none (plain supporter)"
    role = pipeline.roles.get(result.role)
    conf = result.role_probs.get(result.role)
    how = {"matched": f"matched, confidence {conf:.0%}" if conf is not None else "matched",
           "kept": "kept from the first turn", "override": "chosen by you", "default": "default (matching off)",
           "tentative": "for now: matched again once you say what is on your mind"}
    return (f"**Persona:** {role.name_en} · {role.name_zh} — *{role.source_en}*  \n"
            f"Topic: {pipeline.roles.topic(role.topic).name_en} ({how.get(result.role_source, result.role_source)})")


def strategy_panel(result) -> str:
    """The reply's helping-skill strategy and how it was chosen."""
    if result.strategy_source == "safety":
        return "**Strategy:** none. A crisis turn gets a fixed, reviewed safety reply, not a helping-skill strategy."
    if not result.strategy:
        return "**Strategy:** free (prediction off)"
    conf = result.strategy_probs.get(result.strategy)
    src = "chosen by you" if result.strategy_source == "override" else (
        f"predicted, confidence {conf:.0%}" if conf is not None else "predicted")
    return f"**Strategy:** {result.strategy} ({src})"


def experience_panel(result) -> str:
    """The retrieved experience: quoted when the reply used it, folded away when it did not."""
    exp = result.experience
    if not exp:
        return "**Experience:** none retrieved"
    src = exp.get("source") or {}
    where = " — ".join(x for x in (src.get("work"), src.get("chapter")) if x) if isinstance(src, dict) else str(src)
    centred = exp.get("centred_similarity")
    match = (f"emotion match {centred:+.2f} (cosine centred on this persona's experiences; raw {exp['similarity']:.2f})"
             if centred is not None else f"similarity {exp['similarity']:.2f}")
    if result.experience_used:
        return f"**Experience** (used in this reply; {match}, {where}):\n\n> {exp['text']}"
    why = ("a crisis turn gets the fixed safety reply" if result.crisis else
           f"a {result.strategy} turn takes none" if result.strategy else "no strategy, so none is added")
    # Not used: one line; the retrieved text stays one click away instead of a long quote on most turns.
    return (f"**Experience:** retrieved, not used ({why}); {match}.\n\n"
            f"<details><summary>Show the retrieved experience ({where})</summary>\n\n{exp['text']}\n\n</details>")


@dataclass(eq=False)  # compared by identity, like the Gradio components it holds
class WhyPanel:
    """The side panel's components; the one place that maps a turn (or a fresh start) onto them."""

    persona: gr.Markdown
    strategy: gr.Markdown
    experience: gr.Markdown
    radar: gr.Plot
    gates: gr.Plot
    gates_caption: gr.Markdown
    banner: gr.Markdown  # the crisis resources, above the chat

    @classmethod
    def build(cls, banner: gr.Markdown) -> WhyPanel:
        """Creates the panel's components (in the current column) with the starting texts."""
        return cls(persona=gr.Markdown(STARTING_TEXTS["persona"], elem_id="persona", label="Persona"),
                   strategy=gr.Markdown(STARTING_TEXTS["strategy"], elem_id="strategy", label="Strategy"),
                   experience=gr.Markdown(STARTING_TEXTS["experience"], elem_id="experience", label="Experience"),
                   radar=gr.Plot(label="Emotion"), gates=gr.Plot(label="Gate weights"),
                   gates_caption=gr.Markdown(STARTING_TEXTS["gates_caption"], elem_id="gates-caption",
                                             label="Gate weights caption"),
                   banner=banner)

    def components(self) -> list:
        """The components in the order they appear among an event's outputs."""
        return [self.persona, self.strategy, self.experience, self.radar, self.gates, self.gates_caption,
                self.banner]

    def starting(self) -> dict:
        """Updates that put the panel back as it is before the first message."""
        return {self.persona: STARTING_TEXTS["persona"], self.strategy: STARTING_TEXTS["strategy"],
                self.experience: STARTING_TEXTS["experience"], self.radar: None, self.gates: None,
                self.gates_caption: STARTING_TEXTS["gates_caption"], self.banner: gr.update(visible=False)}

    def showing(self, pipeline: EmpathPipeline, result: TurnResult) -> dict:
        """Updates that explain ``result``; the resources banner shows for the rest of a crisis conversation."""
        return {self.persona: persona_panel(pipeline, result), self.strategy: strategy_panel(result),
                self.experience: experience_panel(result), self.radar: emotion_radar(result.emotion),
                self.gates: gate_bars(result.gate_weights, crisis=result.crisis, generated=not result.notice),
                self.gates_caption: gates_caption(pipeline, result),
                self.banner: gr.update(visible=result.crisis_mode)}


def banner_text() -> str:
    """The crisis resources in English and Chinese."""
    try:
        from empath.safety import resources_banner

        return resources_banner("en") + "\n\n" + resources_banner("zh")
    except ImportError:  # pragma: no cover - safety ships with the package
        return "If you are in danger, call your local emergency number now."


def about_markdown() -> str:
    """The About tab: model card and usage policy."""
    return (PACKAGE_DATA / "about.md").read_text(encoding="utf-8")
