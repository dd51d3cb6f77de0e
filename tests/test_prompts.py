"""Prompt building (empath.prompts): the full layout of the paper's figures and the compact one for small models."""

from empath.pipeline import Conversation, EmpathPipeline, PipelineConfig
from empath.prompts import PromptParts, build_messages, history_window, short_experience, system_prompt
from empath.roles import load_roles

HISTORY = [("seeker", f"seeker turn {i}") if i % 2 == 0 else ("supporter", f"supporter turn {i}") for i in range(9)]
EXPERIENCE = ("I asked out fifty girls and got turned down fifty times. I swore I hated basketball. "
              "Getting rejected stings, but it did not decide who I would become.")


def parts(style, **kw):
    base = dict(role=load_roles().get("hanamichi_sakuragi"), strategy="Self-disclosure",
                experience_text=EXPERIENCE, lang="en", style=style)
    return PromptParts(**{**base, **kw})


def test_compact_prompt_is_short_and_keeps_persona_skill_and_memory():
    full, compact = system_prompt(parts("full")), system_prompt(parts("compact"))
    assert len(compact) < len(full) / 3
    assert "Hanamichi" in compact and "Self-disclosure" in compact
    assert "fifty times" in compact and "decide who I would become" in compact and "basketball" not in compact
    zh = system_prompt(parts("compact", lang="zh", experience_text=None))
    assert "樱木花道" in zh and "自我表露" in zh and "一两句话" in zh


def test_compact_style_keeps_only_the_last_turns():
    window = history_window("compact")
    messages = build_messages(parts("compact"), HISTORY)
    assert len(messages) == 1 + window and messages[-1]["content"] == "seeker turn 8"
    assert len(build_messages(parts("full"), HISTORY)) == 1 + len(HISTORY)
    assert history_window("full") is None


def test_short_experience_keeps_the_event_and_the_lesson():
    assert short_experience(EXPERIENCE) == ("I asked out fifty girls and got turned down fifty times. "
                                            "Getting rejected stings, but it did not decide who I would become.")
    assert short_experience("One sentence only.") == "One sentence only."
    assert short_experience("第一句。第二句。第三句。") == "第一句。第三句。"


def test_pipeline_serves_the_style_its_adapter_was_trained_with(tmp_path):
    from tests.test_pipeline import make_pipeline

    (tmp_path / "empath.json").write_text('{"prompt_style": "compact"}')
    pipe, _ = make_pipeline()
    pipe.config = PipelineConfig(adapter=str(tmp_path))
    result = pipe.plan(Conversation(), "I feel so alone")
    assert pipe.prompt_style == "compact" and "one or two short sentences" in result.messages[0]["content"]
    plain, _ = make_pipeline()
    assert plain.prompt_style == "full"  # no adapter: the full prompt
    assert isinstance(plain, EmpathPipeline)
