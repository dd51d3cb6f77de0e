"""python -m training.evaluate: sampling, systems, metrics, resumption and the pairwise judge, on tiny models."""

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
import sacrebleu

from empath.dialogue import Background, Dialogue, Turn, read_dialogues, write_jsonl
from empath.evaluation import (
    CONSTANT_REPLIES,
    EvaluationError,
    check_system_names,
    decoding_settings,
    reply_loss,
    run_evaluation,
    sample_turns,
    split_message,
    turn_seed,
)
from empath.generation import SamplingSettings
from empath.metrics import (
    TABLE3_COLUMNS,
    bleu,
    build_pairwise_messages,
    generation_metrics,
    judge_pair,
    parse_preferences,
    reply_defects,
)
from tests.test_metrics import PREDS, REFS, FakeClient
from tests.test_pipeline import make_pipeline

QUICK = dict(max_new_tokens=6, progress=False)


# -- metrics ------------------------------------------------------------------------------------
def test_table3_keys_and_bleu_orders_match_sacrebleu():
    row = generation_metrics(PREDS, REFS)
    assert tuple(row) == TABLE3_COLUMNS == ("D-1", "D-2", "B-1", "B-2", "B-4", "F1", "R-L")
    for order, key in ((1, "B-1"), (2, "B-2"), (4, "B-4")):
        expected = sacrebleu.metrics.BLEU(max_ngram_order=order).corpus_score(PREDS, [REFS]).score
        assert row[key] == pytest.approx(expected) and bleu(PREDS, REFS, order) == pytest.approx(expected)
    assert row["B-1"] >= row["B-2"] >= row["B-4"]


@pytest.mark.parametrize("text,lang,defects", [
    ("That sounds really hard. What happened?", "en", []),
    ("Here are **three** tips", "en", ["markdown"]),
    ("## Tips\nSleep more.", "en", ["markdown"]),
    ("```python\nprint(1)\n```", "en", ["markdown"]),
    ("I use #hashtags sometimes", "en", []),
    ("I hear you. 你好", "en", ["other_language"]),
    ("我明白你的感受，OK的。", "zh", []),
    ("我 understand your feelings very much", "zh", ["other_language"]),
    ("I hear you.\nUser: thanks", "en", ["second_speaker"]),
    ("I hear you.\nSeeker : thanks", "en", ["second_speaker"]),
    ("我明白。\n来访者：谢谢", "zh", ["second_speaker"]),
])
def test_reply_defects(text, lang, defects):
    assert reply_defects(text, lang) == defects


# -- sampling -----------------------------------------------------------------------------------
def test_split_message_joins_trailing_seeker_turns():
    s, p = "seeker", "supporter"
    assert split_message([Turn(p, "Hi"), Turn(s, "a"), Turn(s, "b")]) == ([Turn(p, "Hi")], "a\nb")
    assert split_message([Turn(s, "a"), Turn(p, "b")]) is None
    assert split_message([]) is None


def test_sample_turns_from_esconv(fixtures_dir):
    dialogues = read_dialogues(fixtures_dir / "dialogue" / "esconv_hf.jsonl", "esconv")
    turns, counts = sample_turns(dialogues)
    # 6 supporter turns: one opens a dialogue and one follows a supporter turn -> skipped
    assert counts == {"supporter_turns": 6, "usable": 4, "skipped_no_seeker_message": 2}
    first = turns[0]
    assert (first.turn_index, first.message, first.gold) == (3, "Worried. My job ends soon.\nAnd I have rent to pay.",
                                                             "That sounds really stressful.")
    assert [t.speaker for t in first.history] == ["supporter"]
    # the background carries the situation only: no role, topic or problem type leaks into role matching
    assert first.background.description.startswith("My contract ends")
    assert first.background.role is first.background.topic is first.background.problem_type is None
    conv = first.conversation()
    assert conv.role is None and conv.lang == "en" and len(conv.turns) == 1
    assert [t.key for t in sample_turns(dialogues, every=2)[0]] == [turns[0].key, turns[2].key]
    assert len(sample_turns(dialogues, every=1, max_turns=3)[0]) == 3
    # another offset: a disjoint sample; the offsets of one --every cover every usable turn once
    assert [t.key for t in sample_turns(dialogues, every=2, offset=1)[0]] == [turns[1].key, turns[3].key]
    assert sorted(t.key for o in range(3) for t in sample_turns(dialogues, every=3, offset=o)[0]) == sorted(
        t.key for t in turns)
    with pytest.raises(EvaluationError, match="every"):
        sample_turns(dialogues, every=0)
    with pytest.raises(EvaluationError, match=r"--offset must be in \[0, --every - 1\] = \[0, 1\], got 2"):
        sample_turns(dialogues, every=2, offset=2)


def test_decoding_and_seeds():
    assert decoding_settings("greedy").temperature == 0
    app = decoding_settings("app", max_new_tokens=12)
    assert app.max_new_tokens == 12 and app.temperature == SamplingSettings().temperature  # the app's own default
    sample = decoding_settings("sample")
    assert (sample.temperature, sample.top_p, sample.top_k) == (0.7, 0.95, 50)  # Table 6, transformers' top-k
    warm = decoding_settings("0.5", max_new_tokens=12)
    assert (warm.temperature, warm.top_p, warm.top_k, warm.max_new_tokens) == (0.5, 0.95, 50, 12)
    with pytest.raises(EvaluationError, match="unknown decoding"):
        decoding_settings("3")  # outside the temperature range
    assert turn_seed(0, "d", 3) == turn_seed(0, "d", 3) != turn_seed(1, "d", 3)
    with pytest.raises(EvaluationError, match="unknown decoding"):
        decoding_settings("beam")
    assert decoding_settings("app").persona_guidance == 1.0  # off unless asked for
    assert decoding_settings("greedy", persona_guidance=1.5).persona_guidance == 1.5
    assert decoding_settings("app", min_new_tokens=20).min_new_tokens == 20
    assert decoding_settings("app", min_new_tokens=None) == decoding_settings("app")  # None keeps the app's
    with pytest.raises(ValueError, match="min_new_tokens"):
        decoding_settings("app", min_new_tokens=0)


def test_system_names_are_checked_before_any_model_loads():
    assert check_system_names(["empath", " constant", "empath", "org/model"]) == ["empath", "constant", "org/model"]
    with pytest.raises(EvaluationError, match="did you mean 'no-rag'"):
        check_system_names(["no_rag"])
    with pytest.raises(EvaluationError, match="always reported"):
        check_system_names(["human"])


# -- end to end ---------------------------------------------------------------------------------
SYSTEMS = ["empath", "base", "no-strategy", "constant"]


def dataset(tmp_path):
    """Three English dialogues in our jsonl format (one opens with the supporter)."""
    def d(i, turns, question=""):
        return Dialogue(f"d{i}", Background(question=question, description=f"situation {i}", role="juliet"),
                        [Turn(s, t, "Question" if s == "supporter" else None) for s, t in turns])

    path = tmp_path / "tiny.jsonl"
    write_jsonl([
        d(0, [("seeker", "I failed my exam."), ("supporter", "That must hurt. What happened?"),
              ("seeker", "I did not study enough."), ("supporter", "It is never too late to plan the next one.")]),
        d(1, [("supporter", "Hello, how can I help?"), ("seeker", "My dog died."), ("seeker", "I miss him."),
              ("supporter", "I am so sorry for your loss.")], question="My dog died"),
        d(2, [("seeker", "Work is too much."), ("supporter", "How long has it been like this?"),
              ("seeker", "Months."), ("supporter", "That is a long time to carry it.")]),
    ], path)
    return path


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_run_writes_everything_and_the_constant_floor(tmp_path):
    pipe, parts = make_pipeline()
    dialogues = read_dialogues(dataset(tmp_path), "jsonl")
    results = run_evaluation(pipe, dialogues, SYSTEMS, tmp_path / "out", **QUICK)
    out = tmp_path / "out"
    assert results["turns"] == 5 and results["counts"]["skipped_no_seeker_message"] == 1
    preds = lines(out / "predictions.jsonl")
    assert [(p["dialogue_id"], p["turn"]) for p in preds] == [("d0", 1), ("d0", 3), ("d1", 3), ("d2", 1), ("d2", 3)]
    assert preds[2]["message"] == "My dog died.\nI miss him." and preds[2]["context"] == [["supporter",
                                                                                          "Hello, how can I help?"]]
    assert all(set(p["systems"]) == set(SYSTEMS) for p in preds)
    empath, base = preds[1]["systems"]["empath"], preds[1]["systems"]["base"]
    assert empath["role"] == "juliet" and empath["strategy"] == "Reflection of feelings" and empath["reply"]
    assert base["role"] is None and base["strategy"] is None
    # role matching read the background (question text, never the dataset's role label)
    assert parts["role_matcher"].calls and "juliet" not in parts["role_matcher"].calls
    assert "My dog died" in parts["role_matcher"].calls
    # the constant floor is scored exactly like any other prediction list
    golds = [p["gold"] for p in preds]
    constant = results["systems"]["constant"]
    expected = generation_metrics([CONSTANT_REPLIES["en"]] * 5, golds)
    assert {k: constant[k] for k in TABLE3_COLUMNS} == {k: pytest.approx(v, abs=1e-4) for k, v in expected.items()}
    assert constant["PPL"] is None and constant["defects"] == {"markdown": 0, "other_language": 0, "second_speaker": 0}
    human = results["human"]
    assert constant["D-2 / human"] == pytest.approx(constant["D-2"] / human["D-2"], abs=1e-3)
    assert constant["D-2 / human"] < 0.7  # a constant reply fails the diversity target
    assert all(results["systems"][s]["PPL"] > 1 for s in ("empath", "base", "no-strategy"))
    saved = json.loads((out / "results.json").read_text())
    assert saved["systems"]["constant"]["B-2"] == constant["B-2"] and saved["published"][0]["B-4"] == 1.89
    table = (out / "table.md").read_text()
    assert "| Constant reply |" in table and "Human (gold)" in table
    assert "TransESC" in table and "not comparable" in table
    assert results["plots"] or results["notes"]


def test_killed_run_resumes_to_the_same_result(tmp_path):
    data = read_dialogues(dataset(tmp_path), "jsonl")
    full = run_evaluation(make_pipeline()[0], data, SYSTEMS, tmp_path / "full", **QUICK)

    out = tmp_path / "resumed"
    stopped = run_evaluation(make_pipeline()[0], data, SYSTEMS, out, stop_after=2, **QUICK)
    assert stopped == {"stopped": True, "answered": 2} and len(lines(out / "predictions.jsonl")) == 2
    with (out / "predictions.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"dialogue_id": "d2", "turn": 1, "syst')  # killed in the middle of a write
    pipe, parts = make_pipeline()
    resumed = run_evaluation(pipe, data, SYSTEMS, out, **QUICK)
    assert len(parts["safety_checker"].calls) == 3 * 3  # only the 3 missing turns ran (3 model systems each)
    assert resumed["systems"] == full["systems"] and resumed["human"] == full["human"]
    assert lines(out / "predictions.jsonl") == lines(tmp_path / "full" / "predictions.jsonl")

    # a rerun with one more system answers only that system, still one line per turn
    more = run_evaluation(make_pipeline()[0], data, SYSTEMS + ["no-rag"], out, **QUICK)
    preds = lines(out / "predictions.jsonl")
    assert len(preds) == 5 and all("no-rag" in p["systems"] for p in preds)
    assert more["systems"]["empath"] == full["systems"]["empath"]

    with pytest.raises(EvaluationError, match="other settings.*decoding"):
        run_evaluation(make_pipeline()[0], data, SYSTEMS, out, decoding="greedy", **QUICK)
    # a run started before a setting existed resumes: the setting had its default there
    config = json.loads((out / "config.json").read_text())
    del config["settings"]["candidates"]
    (out / "config.json").write_text(json.dumps(config))
    assert run_evaluation(make_pipeline()[0], data, SYSTEMS, out, **QUICK)["systems"] == full["systems"]
    # the app's decoding changed since (a new default): the old replies are not mixed with new ones
    import empath.evaluation.run as run_module

    changed = lambda *a, **kw: replace(SamplingSettings(max_new_tokens=6), no_repeat_reply_ngram=0)  # noqa: E731
    with pytest.MonkeyPatch.context() as patch, pytest.raises(EvaluationError, match=r"other settings \(settings: "):
        patch.setattr(run_module, "decoding_settings", changed)
        run_evaluation(make_pipeline()[0], data, SYSTEMS, out, **QUICK)


def test_gold_perplexity_follows_each_systems_route(tmp_path):
    import torch

    from tests._tiny import tiny_adapter_generator

    generator = tiny_adapter_generator()
    pipe, _ = make_pipeline(generator=generator)
    data = read_dialogues(dataset(tmp_path), "jsonl")
    results = run_evaluation(pipe, data, ["empath", "base", "prompt-only"], tmp_path / "out", max_turns=2, **QUICK)
    preds = lines(tmp_path / "out" / "predictions.jsonl")
    ppl = {s: results["systems"][s]["PPL"] for s in ("empath", "base", "prompt-only")}
    assert ppl["empath"] != ppl["prompt-only"]  # same prompt, adapter routed vs disabled
    # prompt-only = the base weights on Empath's prompt: recompute it with the plain model
    turn = preds[0]
    result = pipe.plan(sample_turns(data, max_turns=1)[0][0].conversation(), turn["message"])
    prompt_ids = generator.encode(result.messages)["input_ids"][0].tolist()
    tok = generator.tokenizer
    reply_ids = tok(turn["gold"] + tok.eos_token, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + reply_ids])
    with generator.model.disable_adapter(), torch.no_grad():
        logits = generator.model.model(input_ids=ids).logits[0]
    nll = torch.nn.functional.cross_entropy(logits[len(prompt_ids) - 1:-1], torch.tensor(reply_ids), reduction="sum")
    assert turn["systems"]["prompt-only"]["nll"] == pytest.approx(float(nll), rel=1e-4)
    assert turn["systems"]["prompt-only"]["tokens"] == len(reply_ids)
    # reply_loss with a route equals the routed forward pass
    route = {"role": "juliet", "strategy": "Reflection of feelings"}
    routed = reply_loss(generator.model, prompt_ids, reply_ids, route)
    assert turn["systems"]["empath"]["nll"] == pytest.approx(routed[0], rel=1e-4)


def test_cli_json_line(tmp_path, capsys):
    from training.evaluate import main

    pipe, _ = make_pipeline()
    argv = ["--data", str(dataset(tmp_path)), "--format", "jsonl", "--systems", "empath,constant", "--max-turns", "3",
            "--max-new-tokens", "6", "--decoding", "greedy", "--out", str(tmp_path / "out"), "--no-progress", "--json"]
    assert main(argv, pipeline=pipe) == 0
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["turns"] == 3 and set(summary["systems"]) == {"empath", "constant"}
    for row in summary["systems"].values():
        assert set(TABLE3_COLUMNS) <= set(row) and all(0 <= row[k] <= 100 for k in TABLE3_COLUMNS)
    assert set(summary["human"]) == {"D-1", "D-2"} and "| Empath |" in out
    assert main(argv[:5] + ["empath,no_role"] + argv[6:], pipeline=pipe) == 2
    assert "unknown system 'no_role'" in capsys.readouterr().err


@pytest.mark.parametrize("flag, key, value, shown, bad, error", [
    ("--persona-guidance", "persona_guidance", "1.5", "with persona guidance 1.5", "9", "persona_guidance must be in [1, 3]"),
    ("--persona-lexicon", "persona_lexicon", "3", "with persona lexicon 3", "99", "persona_lexicon must be in [0, 10]"),
    ("--candidates", "candidates", "3", "with the most agreed of 3 drafts", "99", "candidates must be an integer in [1, 16]"),
    ("--min-new-tokens", "min_new_tokens", "3", "with at least 3 new tokens", "0", "min_new_tokens must be an integer"),
])
def test_cli_decoding_options_are_recorded_and_checked(tmp_path, capsys, flag, key, value, shown, bad, error):
    from training.evaluate import main

    pipe, _ = make_pipeline()
    out = tmp_path / "out"
    argv = ["--data", str(dataset(tmp_path)), "--format", "jsonl", "--systems", "empath", "--max-turns", "2",
            "--max-new-tokens", "4", "--decoding", "app", "--out", str(out), "--no-progress"]  # drafts need sampling
    assert main(argv + [flag, value], pipeline=pipe) == 0
    assert json.loads((out / "results.json").read_text())["config"]["settings"][key] == float(value)
    assert shown in (out / "table.md").read_text()
    capsys.readouterr()
    assert main(argv + ["--out", str(tmp_path / "bad"), flag, bad], pipeline=pipe) == 2
    assert error in capsys.readouterr().err


def test_drafts_are_recorded_and_scored_by_each_way_of_choosing(tmp_path, capsys):
    """--candidates N records each turn's drafts; results score them chosen by every agreement, the run's own
    (--consensus bleu-2) equal to the shown replies; --offset starts the sample further on."""
    from training.evaluate import main

    pipe, _ = make_pipeline()
    out = tmp_path / "out"
    argv = ["--data", str(dataset(tmp_path)), "--format", "jsonl", "--systems", "empath", "--every", "2",
            "--offset", "1", "--max-new-tokens", "6", "--candidates", "3", "--consensus", "bleu-2", "--out", str(out),
            "--no-progress"]
    assert main(argv, pipeline=pipe) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["settings"]["consensus"] == "bleu-2" and results["config"]["offset"] == 1
    data = read_dialogues(dataset(tmp_path), "jsonl")
    assert results["turns"] == len(sample_turns(data, every=2, offset=1)[0]) >= 1
    preds = lines(out / "predictions.jsonl")
    assert all(len(p["systems"]["empath"]["drafts"]) == 3 for p in preds)
    row = results["systems"]["empath"]
    assert set(row["draft_choice"]) == {"rouge-l", "bleu-2"}
    assert row["draft_choice"]["bleu-2"] == {k: row[k] for k in TABLE3_COLUMNS}  # the shown replies
    table = (out / "table.md").read_text()
    assert "with the most agreed of 3 drafts by bleu-2" in table and "starting at usable turn 2" in table
    assert "| Empath, drafts chosen by rouge-l |" in table
    with pytest.raises(SystemExit):
        main(argv[:-3] + ["--consensus", "bleu", "--out", str(tmp_path / "bad")], pipeline=pipe)
    assert "invalid choice: 'bleu'" in capsys.readouterr().err


def test_a_turn_without_drafts_keeps_its_one_reply_in_every_draft_choice():
    """A crisis turn has the fixed reply and no drafts: each way of choosing scores that reply there."""
    from empath.evaluation import score_predictions
    from empath.postprocess import consensus_reply

    drafts = ["You are welcome, have a great day.", "You are welcome and I wish you all the best, have a great day too.",
              "Thank you, you too."]
    records = [{"gold": "Have a great day too!", "systems": {"empath": {"reply": drafts[0], "drafts": drafts}}},
               {"gold": "Please call 988 now.", "systems": {"empath": {"reply": "Please call 988.", "crisis": True}}}]
    choice = score_predictions(records, ["empath"])["systems"]["empath"]["draft_choice"]
    for agreement in ("rouge-l", "bleu-2"):
        chosen = [consensus_reply(drafts, agreement=agreement), "Please call 988."]
        assert choice[agreement] == {k: round(v, 4) for k, v in generation_metrics(
            chosen, ["Have a great day too!", "Please call 988 now."]).items()}
    assert "draft_choice" not in score_predictions(records[1:], ["empath"])["systems"]["empath"]


def test_cli_runs_as_module():
    import subprocess
    import sys

    from empath._data import REPO_ROOT

    proc = subprocess.run([sys.executable, "-m", "training.evaluate", "--help"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "--systems" in proc.stdout and "--judge" in proc.stdout


# -- pairwise judge -----------------------------------------------------------------------------
def prefs(**overrides):
    base = {"fluency": "A", "role_alignment": "tie", "skillfulness": "B", "empathy": "A", "helpfulness": "B",
            "safety": "tie"}
    return json.dumps({**base, **overrides})


def test_parse_preferences():
    assert parse_preferences(prefs())["skillfulness"] == "B"
    loose = ('```json\n{"Fluency": "Reply A", "RoA.": "Tie", "Ski.": "b", "EMPATHY": "a", "Hel.": "equal", '
             '"Safety": "A"}\n```')
    assert parse_preferences(loose) == {"fluency": "A", "role_alignment": "tie", "skillfulness": "B", "empathy": "A",
                                        "helpfulness": "tie", "safety": "A"}
    with pytest.raises(ValueError, match="empathy='maybe' is not A, B or tie"):
        parse_preferences(prefs(empathy="maybe"))
    with pytest.raises(ValueError, match="missing safety"):
        parse_preferences(json.dumps({k: v for k, v in json.loads(prefs()).items() if k != "safety"}))


def test_judge_pair_asks_both_orders_and_cancels_position():
    # a judge that always prefers the first reply shown: both orders -> every criterion a 0.5 draw
    always_a = prefs(**dict.fromkeys(["role_alignment", "skillfulness", "helpfulness", "safety"], "A"))
    client = FakeClient(always_a, "not json", always_a)
    j = judge_pair("Help-seeker: I feel low.", "MINE", "THEIRS", client=client, model="m", backoff_s=0)
    assert j.scores == dict.fromkeys(j.scores, 0.5) and j.consistent == 0.0 and j.attempts == 3
    first, last = client.calls[0]["messages"][1]["content"], client.calls[-1]["messages"][1]["content"]
    assert first.index("MINE") < first.index("THEIRS") and last.index("THEIRS") < last.index("MINE")
    # a consistent judge: A in the first order and B in the swapped one -> the reply won
    swapped = {k: {"A": "B", "B": "A"}.get(v, v) for k, v in json.loads(prefs()).items()}
    client = FakeClient(prefs(), json.dumps(swapped))
    j = judge_pair("ctx", "MINE", "THEIRS", client=client, model="m", backoff_s=0)
    assert (j.scores["fluency"], j.scores["skillfulness"], j.scores["safety"], j.consistent) == (1, 0, 0.5, 1)
    assert "Reply A" in build_pairwise_messages("c", "x", "y")[1]["content"]


def test_run_with_judge_and_resume(tmp_path):
    data = read_dialogues(dataset(tmp_path), "jsonl")
    client = FakeClient(*[prefs()] * 40)
    results = run_evaluation(make_pipeline()[0], data, ["empath", "constant"], tmp_path / "out", judge=True,
                             judge_client=client, judge_model="m", judge_turns=3, **QUICK)
    assert len(client.calls) == 3 * 2 * 2  # turns x systems x orders
    judge = results["judge"]
    assert judge["opponent"] == "human" and judge["turns"] == 3
    assert set(judge["systems"]) == {"empath", "constant"}
    assert judge["systems"]["empath"]["Flu."] == 0.5  # the same verdict in both orders: position only
    assert "Flu." in (tmp_path / "out" / "table.md").read_text()
    assert any("radar" in name for name in results["plots"])
    # the rerun reuses every judgement
    again = run_evaluation(make_pipeline()[0], data, ["empath", "constant"], tmp_path / "out", judge=True,
                           judge_client=client, judge_model="m", judge_turns=3, **QUICK)
    assert len(client.calls) == 12 and again["judge"] == judge
    with pytest.raises(EvaluationError, match="judge-against"):
        run_evaluation(make_pipeline()[0], data, ["empath"], tmp_path / "out", judge=True, judge_client=client,
                       judge_against="base", **QUICK)


def test_judge_needs_an_endpoint(tmp_path, monkeypatch):
    for var in ("EMPATH_JUDGE_MODEL", "EMPATH_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    from empath.metrics import JudgeError, judge_client_from_env

    with pytest.raises(JudgeError, match="EMPATH_JUDGE_MODEL"):
        judge_client_from_env()
    monkeypatch.setenv("EMPATH_LLM_MODEL", "llm-fallback")
    monkeypatch.setenv("EMPATH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    client, model = judge_client_from_env()
    assert model == "llm-fallback" and str(client.base_url).startswith("http://127.0.0.1:9/v1")


def test_constant_reply_follows_the_language():
    from empath.evaluation import System

    turn = SimpleNamespace(lang="zh", message="我很难过", gold="我明白")
    answer = System("constant").answer(turn, decoding_settings())
    assert answer["reply"] == CONSTANT_REPLIES["zh"] and answer["defects"] == [] and "nll" not in answer
