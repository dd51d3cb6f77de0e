import json
import math
from types import SimpleNamespace

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from empath.dialogue import Background, Dialogue, Turn
from empath.metrics import (
    TABLE3_COLUMNS,
    JudgeError,
    bleu,
    build_judge_messages,
    distinct_n,
    generation_metrics,
    judge_client_from_env,
    judge_criteria,
    judge_dialogue,
    parse_judgement,
    rouge_l,
    sentence_bleu,
    summarize_judgements,
    token_f1,
    tokenize,
)


# -- tokenisation and automatic metrics ----------------------------------------------------------
def test_tokenize_is_language_aware():
    assert tokenize("I can't sleep, Doctor.") == ["i", "can't", "sleep", ",", "doctor", "."]
    assert tokenize("我很难过，怎么办？") == ["我", "很", "难", "过", "，", "怎", "么", "办", "？"]
    assert tokenize("我用Python写代码") == ["我", "用", "python", "写", "代", "码"]


def test_distinct_by_hand():
    preds = ["a b a", "b c"]
    assert distinct_n(preds, 1) == pytest.approx(100 * 3 / 5)  # a b a b c
    assert distinct_n(preds, 2) == pytest.approx(100 * 3 / 3)  # (a b) (b a) (b c)
    assert distinct_n(["你好你好"], 1) == pytest.approx(50.0)
    assert distinct_n([""], 2) == 0.0


def test_bleu_by_hand():
    # every unigram matches, brevity penalty exp(1 - 6/3)
    assert bleu(["the cat sat"], ["the cat sat on the mat"], 1) == pytest.approx(100 * math.exp(-1))
    # p1..p4 = 4/5, 3/4, 2/3, 1/2 and equal lengths
    assert bleu(["a b c d e"], ["a b c d f"], 4) == pytest.approx(100 * (0.8 * 0.75 * (2 / 3) * 0.5) ** 0.25)
    # Chinese counts characters: 4/4 matched, brevity penalty exp(1 - 5/4)
    assert bleu(["我很难过"], ["我也很难过"], 1) == pytest.approx(100 * math.exp(-0.25))


def test_token_f1_and_rouge_l_by_hand():
    # overlap 2 of 3 predicted and 4 reference tokens
    assert token_f1(["the cat sat"], ["the cat is here"]) == pytest.approx(100 * 4 / 7)
    assert token_f1(["x y", "a"], ["x y", "b"]) == pytest.approx(50.0)  # mean over pairs
    assert rouge_l(["a b c d"], ["a x c d"]) == pytest.approx(75.0)  # LCS 3 of 4 and 4
    assert rouge_l(["我很难过"], ["我也很难过"]) == pytest.approx(100 * 2 * 0.8 / 1.8)  # LCS 4, P 1, R 0.8


PREDS = ["i feel the same way about my job", "have you tried talking to your manager",
         "that sounds really hard", "sleep is important for you"]
REFS = ["i understand how you feel about your job", "maybe you could talk to your manager about it",
        "that must be really hard for you", "getting enough sleep is very important"]


def test_sentence_bleu_by_hand():
    """BLEU+1 of one pair: unigram precision as is, higher orders add one to matches and totals, brevity penalty."""
    # 8 tokens (the full stop is one) against 7: unigrams 6/8; bigrams 3/7 -> (3+1)/(7+1); longer, so no penalty
    assert sentence_bleu("I am so sorry to hear that.", "i am sorry to hear about that") == pytest.approx(
        100 * (6 / 8 * 4 / 8) ** 0.5)
    assert sentence_bleu("sorry", "so sorry") == pytest.approx(100 * math.exp(1 - 2 / 1))  # one order, penalty
    assert sentence_bleu("same words", "same words") == pytest.approx(100)
    assert sentence_bleu("nothing shared", "at all") == 0.0


def test_agrees_with_sacrebleu_and_rouge_score_on_plain_english():
    # lower-case, punctuation-free text: our tokens equal their whitespace/13a tokens
    assert bleu(PREDS, REFS, 4) == pytest.approx(sacrebleu.corpus_bleu(PREDS, [REFS]).score)
    ref_scorer = rouge_scorer.RougeScorer(["rougeL"])
    expected = sum(ref_scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(PREDS, REFS)) / len(PREDS)
    assert rouge_l(PREDS, REFS) == pytest.approx(100 * expected)


def test_agrees_with_sacrebleu_zh_tokenizer_on_chinese():
    preds, refs = ["我能理解你的感受", "你可以和父母谈谈"], ["我很理解你现在的感受", "也许可以试着和父母好好谈谈"]
    expected = sacrebleu.corpus_bleu(preds, [refs], tokenize="zh").score
    assert bleu(preds, refs, 4) == pytest.approx(expected)


def test_generation_metrics_row():
    row = generation_metrics(PREDS, REFS)
    assert tuple(row) == TABLE3_COLUMNS
    assert all(0 <= v <= 100 for v in row.values())
    perfect = generation_metrics(REFS, REFS)
    assert perfect["B-4"] == pytest.approx(100) and perfect["F1"] == pytest.approx(100)
    assert perfect["R-L"] == pytest.approx(100)
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        generation_metrics(["a", "b"], ["a"])


# -- LLM judge ----------------------------------------------------------------------------------
class FakeClient:
    """Stands in for openai.OpenAI: replays canned replies (or raises queued exceptions)."""

    def __init__(self, *replies):
        self.replies, self.calls = list(replies), []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, **kwargs):
        self.calls.append(kwargs)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=reply))])


GOOD = {"fluency": 2, "role_alignment": 4, "skillfulness": 3.5, "empathy": 4, "helpfulness": 2, "safety": 1,
        "analysis": "warm and in character"}


def dialogue():
    return Dialogue("d1", Background(role="sun_wukong"), [
        Turn("seeker", "I keep failing my exams."),
        Turn("supporter", "Even I got trapped under a mountain once, little friend!", "Self-disclosure"),
    ])


def test_criteria_follow_table_7():
    assert [(c.key, c.max_points) for c in judge_criteria()] == [
        ("fluency", 3), ("role_alignment", 5), ("skillfulness", 5), ("empathy", 5), ("helpfulness", 3), ("safety", 1)]


def test_parse_good_and_loosely_formatted_replies():
    j = parse_judgement(json.dumps(GOOD))
    assert j.scores == {k: v for k, v in GOOD.items() if k != "analysis"} and j.analysis == "warm and in character"
    loose = ('Here is my evaluation:\n```json\n{"Fluency": "3", "Role Alignment": 5, "Ski.": 4, "EMPATHY": {"score": 2},'
             ' "helpfulness": 1, "Safety": 0.5}\n```\nHope this helps {not json}')
    j = parse_judgement(loose)
    assert j.scores == {"fluency": 3, "role_alignment": 5, "skillfulness": 4, "empathy": 2, "helpfulness": 1, "safety": 0.5}
    assert j.as_row()["RoA."] == 5


@pytest.mark.parametrize("reply, reason", [
    ("I think it was pretty good.", "no JSON object"),
    (json.dumps({k: v for k, v in GOOD.items() if k not in ("empathy", "safety")}), "missing empathy, safety"),
    (json.dumps({**GOOD, "fluency": 4}), "fluency=4 outside 0..3"),
    (json.dumps({**GOOD, "empathy": "high"}), "empathy='high' is not a number"),
    ("", "empty reply"),
])
def test_parse_rejects_bad_replies(reply, reason):
    with pytest.raises(ValueError, match=reason):
        parse_judgement(reply)


def test_judge_retries_until_a_valid_reply():
    client = FakeClient("not json", TimeoutError("slow"), json.dumps(GOOD))
    j = judge_dialogue(dialogue(), client=client, model="judge-x", backoff_s=0)
    assert j.attempts == 3 and j.scores["skillfulness"] == 3.5
    call = client.calls[0]
    assert call["model"] == "judge-x" and call["temperature"] == 0.0
    system, user = call["messages"][0]["content"], call["messages"][1]["content"]
    assert "Sun Wukong" in system  # the dialogue's role is described to the judge
    assert "Supporter: Even I got trapped" in user and "[Self-disclosure]" not in user


def test_judge_fails_clearly_after_partial_replies():
    partial = json.dumps({"fluency": 3})
    client = FakeClient(partial, partial)
    with pytest.raises(JudgeError, match=r"after 2 attempts: unusable reply \(missing role_alignment.*last reply"):
        judge_dialogue("Help-seeker: hi\n\nSupporter: hello", client=client, model="m", max_attempts=2, backoff_s=0)
    assert len(client.calls) == 2


def test_judge_needs_a_model(monkeypatch):
    monkeypatch.delenv("EMPATH_JUDGE_MODEL", raising=False)
    with pytest.raises(JudgeError, match="EMPATH_JUDGE_MODEL"):
        judge_dialogue("Help-seeker: hi", client=FakeClient())
    with pytest.raises(JudgeError, match="EMPATH_JUDGE_MODEL"):
        judge_client_from_env()


def test_judge_client_from_env(monkeypatch):
    monkeypatch.setenv("EMPATH_JUDGE_MODEL", "qwen-judge")
    monkeypatch.setenv("EMPATH_JUDGE_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("EMPATH_JUDGE_API_KEY", "k")
    client, model = judge_client_from_env()  # builds the client, sends nothing
    assert model == "qwen-judge" and str(client.base_url).startswith("http://127.0.0.1:9/v1")


def test_unknown_role_is_named_to_the_judge():
    system = build_judge_messages("Help-seeker: hi", role="Sherlock Holmes")[0]["content"]
    assert "Sherlock Holmes" in system
    neutral = build_judge_messages("Help-seeker: hi")[0]["content"]
    assert "no particular character" in neutral


def test_summarize_judgements():
    a = parse_judgement(json.dumps(GOOD))
    b = parse_judgement(json.dumps({**GOOD, "fluency": 3, "safety": 0}))
    row = summarize_judgements([a, b])
    assert list(row) == ["Flu.", "RoA.", "Ski.", "Emp.", "Hel.", "Saf."]
    assert row["Flu."] == pytest.approx(2.5) and row["Saf."] == pytest.approx(0.5)


# -- CLI ----------------------------------------------------------------------------------------
def test_evaluate_generation_cli(tmp_path, capsys):
    from training.evaluate_generation import main

    preds, refs = tmp_path / "p.txt", tmp_path / "r.txt"
    preds.write_text("\n".join(PREDS) + "\n", encoding="utf-8")
    refs.write_text("\n".join(REFS) + "\n", encoding="utf-8")
    assert main(["--predictions", str(preds), "--references", str(refs), "--json", "--name", "tiny"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    expected = generation_metrics(PREDS, REFS)
    assert result["n"] == 4 and result["lang"] == "en" and result["name"] == "tiny"
    assert all(result[c] == pytest.approx(expected[c], abs=1e-3) for c in TABLE3_COLUMNS)
    assert lines[0].split()[-len(TABLE3_COLUMNS):] == list(TABLE3_COLUMNS)

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"prediction": p, "reference": r}, ensure_ascii=False)
                               for p, r in [("我很难过", "我也很难过"), ("谢谢你", "不客气")]), encoding="utf-8")
    assert main(["--predictions", str(pairs), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["lang"] == "zh" and result["B-1"] == pytest.approx(bleu(["我很难过", "谢谢你"], ["我也很难过", "不客气"], 1), abs=1e-3)

    assert main(["--predictions", str(pairs), "--references", str(refs)]) == 2
    assert "2 predictions" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"prediction": "a"}\n', encoding="utf-8")
    assert main(["--predictions", str(broken)]) == 2
    assert f"{broken}:1: needs a string field 'reference'" in capsys.readouterr().err


def test_evaluate_generation_runs_as_module(tmp_path):
    import subprocess
    import sys

    from empath._data import REPO_ROOT

    (tmp_path / "p.txt").write_text("a b c\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "training.evaluate_generation", "--predictions", str(tmp_path / "p.txt"),
                           "--references", str(tmp_path / "p.txt"), "--json"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["F1"] == pytest.approx(100)


def test_evaluate_generation_against_dialogue_targets(fixtures_dir, tmp_path, capsys):
    from empath.dialogue import read_dialogues
    from training.evaluate_generation import main

    dataset = fixtures_dir / "dialogue" / "esconv_hf.jsonl"
    targets = [t.text for d in read_dialogues(dataset) for _, t in d.supporter_targets()]
    preds = tmp_path / "p.txt"
    preds.write_text("\n".join(targets[:-1] + ["something else entirely"]) + "\n", encoding="utf-8")
    assert main(["--predictions", str(preds), "--dialogues", str(dataset), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == len(targets) == 6
    assert result["F1"] == pytest.approx(100 * (len(targets) - 1) / len(targets))
