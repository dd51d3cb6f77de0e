"""The three-stage derivation end to end against a fake OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from empath.derivation import Rejected, load_prompts, parse_dialogue_text, rounds
from empath.dialogue import Background, Dialogue, Turn, read_jsonl, write_jsonl

STRATEGY_CYCLE = ["Question", "Restatement or Paraphrasing", "Reflection of feelings", "Self-disclosure",
                  "Affirmation and Reassurance", "Providing Suggestions", "Information", "Others", "Question",
                  "Providing Suggestions"]
SEEKER_TAG = re.compile(r"^(求助者|Help-seeker)[：:]", re.M)


def canned_dialogue(case: str, lang: str, n_rounds: int = 9, strategy=None) -> str:
    seeker, supporter, colon = ("求助者", "支持者", "：") if lang == "zh" else ("Help-seeker", "Supporter", ": ")
    paras = []
    for i in range(n_rounds):
        paras.append(f"{seeker}{colon}" + (f"case={case} 我最近很难受。" if i == 0 else f"第{i}句，我还是很担心。")
                     if lang == "zh" else f"{seeker}{colon}" + (f"case={case} I feel low." if i == 0 else f"Line {i}, still worried."))
        tag = STRATEGY_CYCLE[i] if strategy is None else strategy(i)
        body = f"我听见了，第{i}次回应。" if lang == "zh" else f"I hear you, reply number {i}."
        paras.append(f"{supporter}{colon}{tag and f'[{tag}] '}{body}")
    return "\n\n".join(paras)


def stage1_reply(case: str, lang: str) -> str:
    if case == "prose":
        return "当然可以！下面是我对这段对话的一些想法，但我不会按格式写。"
    if case == "badstrat":
        return canned_dialogue(case, lang, strategy=lambda i: "Hugging" if i == 4 else STRATEGY_CYCLE[i])
    if case == "nostrat":
        return canned_dialogue(case, lang, strategy=lambda i: "" if i == 2 else STRATEGY_CYCLE[i])
    if case == "twostrat":
        return canned_dialogue(case, lang, strategy=lambda i: "Question] [Information" if i == 1 else STRATEGY_CYCLE[i])
    if case == "supfirst":
        return "支持者：[Question] 你好，今天想聊什么？\n\n" + canned_dialogue(case, lang)
    if case == "short":
        return canned_dialogue(case, lang, n_rounds=5)
    return "```\n" + canned_dialogue(case, lang) + "\n```" if case == "fenced" else canned_dialogue(case, lang)


def dialogue_part(content: str) -> str:
    m = SEEKER_TAG.search(content)
    return content[m.start():]


def stage2_reply(case: str, content: str) -> str:
    text = dialogue_part(content)
    experience = re.search(r"^- \(([\w-]+)\) (.+)$", content, re.M).group(2)
    if case == "stage2drop":  # changes a strategy: the structure of stage 1 is not kept
        return text.replace("[Others] ", "[Question] ", 1)
    # weave the first experience into the first Self-disclosure turn
    return re.sub(r"(\[Self-disclosure\] )(.+)", lambda m: m.group(1) + m.group(2) + " " + experience, text, count=1)


def stage3_reply(content: str) -> str:
    return re.sub(r"((?:支持者：|Supporter: )\[[^\]]+\] )", r"\1嘿嘿，", dialogue_part(content))


class FakeEndpoint:
    """Canned chat completions keyed by the case marker in the seeker's first turn and the stage."""

    def __init__(self):
        self.requests = Counter()
        self.flaky_failed = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                content = body["messages"][-1]["content"]
                case = re.search(r"case=(\w+)", content).group(1)
                stage = ("experience" if "## Reference experiences" in content else
                         "style" if "## Speaking style" in content else "multiturn")
                outer.requests[(case, stage)] += 1
                lang = "zh" if "求助者：" in content else "en"
                if case == "timeout":
                    time.sleep(6.0)
                    return self._send(200, {})
                if case == "flaky" and not outer.flaky_failed:
                    outer.flaky_failed = True
                    return self._send(500, {"error": {"message": "overloaded", "type": "server_error"}})
                if case == "nochoices":
                    return self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                                            "choices": []})
                reply = (stage1_reply(case, lang) if stage == "multiturn" else
                         stage2_reply(case, content) if stage == "experience" else stage3_reply(content))
                self._send(200, {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": reply}}],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}})

            def _send(self, status, payload):
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


ZH_CASES = ["ok1", "fenced", "flaky", "highppl", "prose", "badstrat", "nostrat", "twostrat", "supfirst", "short",
            "timeout", "stage2drop", "nochoices"]


def write_inputs(tmp_path):
    topics = ["成长", "恋爱", "家庭", "职业", "情绪"]
    records = [{"questionID": i, "question": f"case={case} 我该怎么办？", "description": "最近总是睡不着，心里很乱。",
                "keywords": f"{topics[i % len(topics)]},压力",
                "answers": [{"answer_text": "谢谢你愿意说出来。我们可以一起慢慢梳理。", "labels_sequence": []}]}
               for i, case in enumerate(ZH_CASES)]
    records.append({"questionID": 99, "question": "没有关键词的记录", "answers": []})  # invalid: read drops it
    psyqa = tmp_path / "psyqa.json"
    psyqa.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    ours = tmp_path / "ours.jsonl"
    write_jsonl([
        Dialogue("en-ok", Background(question="case=enok I lost my job", topic="career"),
                 [Turn("seeker", "case=enok I lost my job and feel useless."),
                  Turn("supporter", "That sounds really hard.", "Reflection of feelings")], "en", "mine"),
        Dialogue("no-persona", Background(question="case=nopersona ?"),
                 [Turn("seeker", "case=nopersona hello")], "en", "mine"),
    ], ours)
    return psyqa, ours


def fake_perplexity(text: str) -> float:
    return 5000.0 if "case=highppl" in text else 42.0


def run_cli(endpoint, tmp_path, inputs, capsys, extra=()):
    from training.derive_dataset import main

    argv = ["--out", str(tmp_path / "out"), "--base-url", endpoint.url, "--model", "fake-model", "--api-key", "k",
            "--timeout", "2", "--retries", "1", "--backoff", "0", "--workers", "4", "--no-progress", "--json",
            "--price-in", "2.5", "--price-out", "10", *extra]
    for path in inputs:
        argv += ["--input", str(path)]
    assert main(argv, perplexity=fake_perplexity, sleep=lambda s: None) == 0
    out = capsys.readouterr().out
    return out, json.loads(out.strip().splitlines()[-1])


def test_derivation_end_to_end_drop_counts_and_resume(tmp_path, capsys):
    inputs = write_inputs(tmp_path)
    with FakeEndpoint() as endpoint:
        out, report = run_cli(endpoint, tmp_path, inputs, capsys)
        with capsys.disabled():  # the report table, for the record (pytest -s shows it)
            print("\n" + "\n".join(out.strip().splitlines()[:-1]))
        stages = {row["stage"]: row for row in report["stages"]}
        assert stages["read"]["in"] == 16 and stages["read"]["reasons"] == {"invalid record": 1}
        assert stages["persona"]["reasons"] == {"no topic or persona": 1}
        assert stages["multiturn"]["in"] == 14
        assert stages["multiturn"]["reasons"] == {
            "format: no dialogue": 1, "format: invalid strategy": 1, "format: missing strategy": 1,
            "format: several strategies": 1, "format: starts with the supporter": 1, "request failed": 2}
        assert stages["length"]["reasons"] == {"too few rounds": 1}
        assert stages["experience"]["reasons"] == {"format: turns or strategies changed": 1}
        assert stages["style"]["dropped"] == 0
        assert stages["perplexity"]["reasons"] == {"perplexity > 1500": 1}
        assert report["kept"] == 4 and stages["perplexity"]["out"] == 4
        assert report["retries"] >= 1 + 2  # flaky once, timeout and no-choices once each
        assert report["tokens"]["prompt"] > 0 and report["cost_usd"] > 0
        assert "request failed" in out and "perplexity" in out and "kept 4" in out

        derived = read_jsonl(tmp_path / "out" / "derived.jsonl")
        assert sorted(d.id for d in derived) == ["en-ok", "psyqa-0-0", "psyqa-1-0", "psyqa-2-0"]
        for d in derived:
            assert d.turns[0].speaker == "seeker" and 8 <= rounds(d.turns) <= 10
            assert all(t.strategy for t in d.turns if t.speaker == "supporter")
            assert d.background.role and d.source.startswith("derived:")
        zh = next(d for d in derived if d.id == "psyqa-0-0")
        assert zh.lang == "zh" and zh.background.role == "sun_wukong"  # 成长 -> Sun Wukong
        assert all(t.text.startswith("嘿嘿") for t in zh.turns if t.speaker == "supporter")  # style stage applied
        disclosed = [t for t in zh.turns if t.experience_id]
        assert len(disclosed) == 1 and disclosed[0].strategy == "Self-disclosure"
        assert disclosed[0].experience_id.startswith("sun_wukong-")
        en = next(d for d in derived if d.id == "en-ok")
        assert en.lang == "en" and en.background.role == "harry_potter"
        rejected = [json.loads(x) for x in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()]
        assert {r["reason"] for r in rejected} >= {"request failed", "perplexity", "too few rounds"}
        assert json.loads((tmp_path / "out" / "report.json").read_text())["kept"] == 4

        # resume: every answer is cached, only the failed requests are made again
        before = Counter(endpoint.requests)
        out2, report2 = run_cli(endpoint, tmp_path, inputs, capsys, ["--retries", "0"])
        new = endpoint.requests - before
        assert set(case for case, _ in new) == {"timeout", "nochoices"}
        assert report2["kept"] == 4 and report2["stages"] == report["stages"]
        assert report2["cached_answers"] >= 3 * 4


def test_parse_dialogue_text_rules():
    good = canned_dialogue("x", "en")
    turns = parse_dialogue_text("Sure! Here it is:\n\n" + good)
    assert rounds(turns) == 9 and turns[1].strategy == "Question"
    with pytest.raises(Rejected, match="not one-on-one"):
        parse_dialogue_text(good + "\n\nHelp-seeker: thanks")
    with pytest.raises(Rejected, match="strategy on a seeker turn"):
        parse_dialogue_text("Help-seeker: [Question] hi\n\nSupporter: [Question] hello")


def test_prompts_exist_in_both_languages_with_the_figures_structure():
    prompts = load_prompts()
    for lang in ("en", "zh"):
        assert "# Role" in prompts[lang]["multiturn"]["system"]
        assert "## Constraints" in prompts[lang]["experience"]["user"]
        assert "## Speaking style" in prompts[lang]["style"]["user"]


def test_perplexity_scorer_on_a_tiny_model():
    from empath.derivation import PerplexityScorer
    from tests._tiny import smollm_tokenizer, tiny_llama

    tok = smollm_tokenizer()
    scorer = PerplexityScorer(model=tiny_llama(len(tok)), tokenizer=tok)
    ppl = scorer("Help-seeker: I feel low.\nSupporter: I hear you.")
    assert 1 < ppl < 1e9


def test_cli_help():
    import subprocess
    import sys

    from empath._data import REPO_ROOT

    proc = subprocess.run([sys.executable, "-m", "training.derive_dataset", "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "--ppl-model" in proc.stdout and "EMPATH_LLM_BASE_URL" in proc.stdout
