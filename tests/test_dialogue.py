import json

import pytest

from empath.dialogue import (
    Background,
    DatasetFormatError,
    Dialogue,
    Dialogues,
    Turn,
    detect_format,
    detect_language,
    read_cpsycoun,
    read_dialogues,
    read_emollm,
    read_esconv,
    read_jsonl,
    read_multiturn_text,
    read_psyqa,
    write_jsonl,
)
from empath.roles import load_roles
from empath.strategies import STRATEGY_NAMES


@pytest.fixture
def ddir(fixtures_dir):
    return fixtures_dir / "dialogue"


def speakers(d):
    return [t.speaker for t in d.turns]


# -- schema -------------------------------------------------------------------------------------
def test_jsonl_round_trip_is_exact(ddir, tmp_path):
    originals = Dialogues()
    for name in ("esconv_hf.jsonl", "ESConv.json", "psyqa.json", "multiturn_zh.txt", "multiturn_en.txt",
                 "cpsycoun.jsonl", "emollm.json"):
        originals.extend(read_dialogues(ddir / name))
    originals[0].turns[1].experience_id = "harry_potter-003"
    out = tmp_path / "all.jsonl"
    assert write_jsonl(originals, out) == len(originals)
    again = read_jsonl(out)
    assert again == originals
    assert detect_format(out) == "jsonl"
    # Chinese text stays readable in the file
    assert "求助者" not in out.read_text(encoding="utf-8") and "叛逆" in out.read_text(encoding="utf-8")


def test_from_dict_normalises_labels_and_rejects_bad_fields():
    d = Dialogue.from_dict({
        "id": "x", "lang": "zh", "source": "test",
        "background": {"topic": "成长", "role": "sun_wukong"},
        "turns": [{"speaker": "seeker", "text": "我很迷茫"}, {"speaker": "supporter", "text": "慢慢说", "strategy": "提问"}],
    })
    assert d.background.topic == "self_growth" and d.turns[1].strategy == "Question"
    bad = [
        ({"turns": [{"speaker": "bot", "text": "hi"}]}, "speaker"),
        ({"turns": [{"speaker": "seeker", "text": " "}]}, "empty text"),
        ({"turns": [{"speaker": "supporter", "text": "hi", "strategy": "Telepathy"}]}, "Telepathy"),
        ({"turns": [{"speaker": "seeker", "text": "hi", "strategy": "Question"}]}, "seeker turn"),
        ({"turns": []}, "no turns"),
        ({"turns": [{"speaker": "seeker", "text": "hi"}], "lang": "fr"}, "lang"),
        ({"turns": [{"speaker": "seeker", "text": "hi"}], "background": {"role": "gandalf"}}, "valid ids"),
        ({"turns": [{"speaker": "seeker", "text": "hi"}], "colour": 1}, "unknown field"),
    ]
    for patch, reason in bad:
        with pytest.raises((ValueError, KeyError), match=reason):
            Dialogue.from_dict({"id": "x", "background": {}, **patch})


def test_supporter_targets_cover_every_supporter_turn_with_its_context():
    turns = [Turn("supporter", "Hi", "Question"), Turn("seeker", "Sad"), Turn("supporter", "I see", "Others"),
             Turn("supporter", "Try a walk", "Providing Suggestions"), Turn("seeker", "Ok")]
    pairs = list(Dialogue("d", Background(), turns).supporter_targets())
    assert [target.text for _, target in pairs] == ["Hi", "I see", "Try a walk"]
    assert [len(context) for context, _ in pairs] == [0, 2, 3]
    assert pairs[2][0][-1] is turns[2]  # the consecutive supporter turn is context of the next


def test_detect_language():
    assert detect_language("我最近总是失眠") == "zh"
    assert detect_language("I can't sleep lately") == "en"
    assert detect_language("我用 Python 写 code 时很焦虑，总担心出错") == "zh"
    assert detect_language("") == "en"


# -- readers ------------------------------------------------------------------------------------
def test_esconv_hf_split(ddir):
    ds = read_esconv(ddir / "esconv_hf.jsonl")
    assert len(ds) == 3 and ds.skipped == []
    first = ds[0]
    assert first.background.description.startswith("My contract ends")
    assert (first.background.problem_type, first.background.emotion) == ("job crisis", "anxiety")
    bank = load_roles()
    assert first.background.topic == "career" and first.background.role == bank.role_for_topic("career").id
    assert speakers(first) == ["supporter", "seeker", "seeker", "supporter", "supporter", "seeker"]
    assert [t.strategy for t in first.turns] == ["Question", None, None, "Reflection of feelings",
                                                 "Providing Suggestions", None]
    assert first.lang == "en" and first.source == "esconv" and first.background.question == ""


def test_esconv_problem_types_map_case_insensitively(ddir):
    bank = load_roles()
    ds = read_esconv(ddir / "esconv_hf.jsonl")
    assert ds[1].background.problem_type == "Sleep Problems"
    assert ds[1].background.topic == bank.topic_for_problem_type("sleep problems").id == "treatment"
    assert ds[2].background.role == bank.role_for_problem_type("PROBLEMS WITH FRIENDS").id


def test_esconv_original_json(ddir):
    ds = read_esconv(ddir / "ESConv.json")
    assert len(ds) == 2
    assert ds[0].background.topic == "emotion" and ds[1].background.topic == "love"
    assert [t.strategy for t in ds[0].turns] == [None, "Question", None, "Affirmation and Reassurance"]
    assert ds[0].turns[2].text == "Since November."  # seeker feedback annotation is not a strategy


def test_psyqa(ddir):
    ds = read_psyqa(ddir / "psyqa.json")
    assert [d.id for d in ds] == ["psyqa-q1-0", "psyqa-q1-1", "psyqa-q2-0"]  # one dialogue per answer
    d = ds[0]
    assert d.lang == "zh" and d.background.topic == "self_growth"
    assert d.background.keywords == ["成长", "性格完善", "自我接纳"]
    assert d.turns[0].speaker == "seeker" and "叛逆" in d.turns[0].text and "父母" in d.turns[0].text
    assert [(t.text, t.strategy) for t in d.turns[1:]] == [
        ("你好。", None),  # text outside every span keeps its own, unlabelled turn
        ("你觉得越被约束越想反抗。", "Restatement or Paraphrasing"),
        ("这很正常。", "Affirmation and Reassurance"),
        ("可以试着和父母谈谈。", "Providing Suggestions"),
    ]
    assert ds[1].turns[1:] == [Turn("supporter", "叛逆常常是独立的开始。", "Information")]  # PsyQA's Interpretation;
    # the full stop left outside the span joins it instead of becoming a turn of its own
    assert ds[2].background.topic == "relationships" and ds[2].turns[1].strategy is None  # list-form keywords


def test_multiturn_text_chinese_and_english(ddir):
    zh = read_multiturn_text(ddir / "multiturn_zh.txt")
    assert [d.id for d in zh] == ["rebel-zh", "multiturn_zh-00001"]
    first = zh[0]
    assert first.lang == "zh" and first.background.topic == "self_growth" and first.background.role == "sun_wukong"
    assert [t.strategy for t in first.turns] == [None, "Question", None, "Reflection of feelings", "Providing Suggestions"]
    assert first.turns[3].text.endswith("我能感受到这种矛盾。")  # untagged line continues the turn
    assert zh[1].background.role == "doraemon" and zh[1].background.topic == "relationships"  # ASCII colon
    en = read_multiturn_text(ddir / "multiturn_en.txt")
    assert [d.lang for d in en] == ["en", "en"]
    assert speakers(en[0]) == ["seeker", "supporter", "seeker", "supporter"]
    assert en[1].id == "sleep-en" and en[1].turns[1].strategy == "Self-disclosure"
    assert en[0].background.role is None  # nothing says which role


def test_multiturn_text_round_trips_through_to_text(ddir, tmp_path):
    ds = read_multiturn_text(ddir / "multiturn_zh.txt")
    path = tmp_path / "again.txt"
    path.write_text("\n---\n".join(d.to_text() for d in ds), encoding="utf-8")
    again = read_multiturn_text(path)
    assert [d.turns for d in again] == [d.turns for d in ds]


def test_cpsycoun_and_emollm(ddir):
    cp = read_cpsycoun(ddir / "cpsycoun.jsonl")
    assert [d.id for d in cp] == ["cpsycoun-case_a", "cpsycoun-case_b"]
    assert speakers(cp[0]) == ["seeker", "supporter", "seeker", "supporter"]  # stage direction dropped
    assert all(t.strategy is None for d in cp for t in d.turns) and cp[0].lang == "zh"
    assert cp[1].turns[1].text == "听起来这让你很难受。\n我们可以慢慢聊。"
    emo = read_emollm(ddir / "emollm.json")
    assert [len(d.turns) for d in emo] == [4, 2]
    assert emo[0].turns[2].text == "下个月有一场重要考试。" and emo[0].turns[3].speaker == "supporter"
    assert all("心理医生" not in t.text for d in emo for t in d.turns)  # system prompt is not a turn


@pytest.mark.parametrize("name, fmt", [("esconv_hf.jsonl", "esconv"), ("ESConv.json", "esconv"),
                                       ("psyqa.json", "psyqa"), ("multiturn_en.txt", "multiturn"),
                                       ("cpsycoun.jsonl", "cpsycoun"), ("emollm.json", "emollm")])
def test_format_detection(ddir, name, fmt):
    assert detect_format(ddir / name) == fmt
    assert read_dialogues(ddir / name) == read_dialogues(ddir / name, format=fmt)


def test_unknown_format_lists_valid_ones(ddir):
    with pytest.raises(ValueError, match="esconv, psyqa"):
        read_dialogues(ddir / "psyqa.json", format="csv")


# -- malformed input ----------------------------------------------------------------------------
def test_malformed_rows_raise_with_file_and_line(ddir):
    path = ddir / "malformed_esconv.jsonl"
    with pytest.raises(DatasetFormatError) as info:
        read_esconv(path)
    assert str(info.value).startswith(f"{path}:2: ") and "'bot'" in str(info.value)
    assert info.value.line == 2


def test_skip_invalid_collects_every_bad_row(ddir):
    path = ddir / "malformed_esconv.jsonl"
    ds = read_esconv(path, skip_invalid=True)
    assert len(ds) == 1
    lines = [int(msg[len(str(path)) + 1:].split(":")[0]) for msg in ds.skipped]
    assert lines == [2, 3, 4, 5, 6]
    assert "invalid JSON" in ds.skipped[1] and "alien abduction" in ds.skipped[2]
    assert "Telepathy" in ds.skipped[3] and "empty text" in ds.skipped[4]


def test_malformed_multiturn_names_the_offending_line(ddir):
    path = ddir / "malformed_multiturn.txt"
    with pytest.raises(DatasetFormatError, match=rf"^{path}:5: text before the first speaker tag"):
        read_multiturn_text(path)
    ds = read_multiturn_text(path, skip_invalid=True)
    assert len(ds) == 2 and [m.split(":")[1] for m in ds.skipped] == ["5", "8", "12"]


def test_malformed_psyqa_names_record(ddir):
    path = ddir / "malformed_psyqa.json"
    with pytest.raises(DatasetFormatError, match=rf"^{path}:2: record bad-topic: unknown topic '天文'"):
        read_psyqa(path)
    ds = read_psyqa(path, skip_invalid=True)
    assert [d.id for d in ds] == ["psyqa-ok-0"]
    assert ds.skipped[1].startswith(f"{path}:3: record bad-span:") and "outside the answer" in ds.skipped[1]


def test_broken_json_list_is_fatal_and_located(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"conversation": []},\n  {"conversation": [\n}\n]', encoding="utf-8")
    with pytest.raises(DatasetFormatError, match=rf"^{path}:4: invalid JSON"):
        read_emollm(path, skip_invalid=True)


def test_jsonl_rejects_bad_rows(tmp_path):
    good = Dialogue("a", Background(), [Turn("seeker", "hi")])
    path = tmp_path / "d.jsonl"
    write_jsonl([good], path)
    row = json.dumps({**good.to_dict(), "id": "b", "turns": [{"speaker": "seeker", "text": ""}]})
    path.write_text(path.read_text() + row + "\n")
    with pytest.raises(DatasetFormatError, match=rf"^{path}:2: turn 0: empty text"):
        read_jsonl(path)
    assert [d.id for d in read_jsonl(path, skip_invalid=True)] == ["a"]
    with pytest.raises(ValueError, match="dialogue #1"):
        write_jsonl([Dialogue("c", Background(), [])], tmp_path / "x.jsonl")


# -- real data ----------------------------------------------------------------------------------
def test_real_esconv_valid_split(shared_data):
    path = shared_data / "esconv" / "valid.jsonl"
    if not path.exists():
        pytest.skip(f"{path} absent")
    ds = read_esconv(path)
    assert len(ds) == 195 and ds.skipped == []
    bank = load_roles()
    targets = [t for d in ds for _, t in d.supporter_targets()]
    assert targets and all(t.strategy in STRATEGY_NAMES for t in targets)
    assert all(d.background.role in bank.ids for d in ds)
    assert all(t.strategy is None for d in ds for t in d.turns if t.speaker == "seeker")


# -- CLI ----------------------------------------------------------------------------------------
def test_build_dataset_cli(ddir, tmp_path, capsys):
    from training.build_dataset import main

    out = tmp_path / "out.jsonl"
    assert main(["--input", str(ddir / "esconv_hf.jsonl"), "--input", str(ddir / "ESConv.json"),
                 "--format", "esconv", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote 5 dialogues (18 turns, 9 supporter turns, 9 with a strategy" in printed
    assert [d.id for d in read_jsonl(out)][:1] == ["esconv-esconv_hf-00000"] and len(read_jsonl(out)) == 5

    bad = ddir / "malformed_esconv.jsonl"
    assert main(["--input", str(bad), "--out", str(out)]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err
    assert main(["--input", str(bad), "--out", str(out), "--skip-invalid"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 1 dialogues" in printed and "skipped 5 invalid record(s)" in printed and f"{bad}:6:" in printed


def test_build_dataset_rejects_duplicate_ids(ddir, tmp_path, capsys):
    from training.build_dataset import main

    same = str(ddir / "psyqa.json")
    assert main(["--input", same, "--input", same, "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "duplicate dialogue ids" in capsys.readouterr().err


def test_line_numbers_survive_unicode_line_separators(tmp_path):
    good = Dialogue("a", Background(), [Turn("seeker", "first\u2028second")])
    path = tmp_path / "d.jsonl"
    write_jsonl([good], path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    ds = read_jsonl(path, skip_invalid=True)
    assert ds == [good] and ds.skipped[0].startswith(f"{path}:2: invalid JSON")


# -- reply overlays ------------------------------------------------------------------------------
def _overlay(tmp_path, *records):
    path = tmp_path / "overlay.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_overlay_puts_our_reply_after_the_real_context(ddir, tmp_path):
    from empath.dialogue.overlay import read_overlay

    dialogues = read_esconv(ddir / "esconv_hf.jsonl")
    first = dialogues[0]
    path = _overlay(tmp_path, {"dialogue_id": first.id, "turn": 3, "role": "doraemon", "strategy": "reflection",
                               "experience_id": "doraemon-012", "reply": " A new reply of ours. "})
    [target] = read_overlay(path, dialogues)
    assert target.role == "doraemon" and target.context == first.turns[:3]
    assert (target.target.text, target.target.strategy, target.target.experience_id) == (
        "A new reply of ours.", "Reflection of feelings", "doraemon-012")
    assert first.turns[3].text != target.target.text  # the dataset's own reply is replaced, not kept


@pytest.mark.parametrize("change, message", [
    ({"dialogue_id": "esconv-nope"}, "not in the dialogues given"),
    ({"turn": 1}, "is a seeker turn"),
    ({"turn": 99}, "turn must be an index"),
    ({"turn": True}, "turn must be an index"),
    ({"role": "gandalf"}, "gandalf"),
    ({"strategy": "Hypnosis"}, "unknown strategy"),
    ({"reply": "   "}, "empty reply"),
])
def test_overlay_errors_name_the_file_and_line(ddir, tmp_path, change, message):
    from empath.dialogue.overlay import read_overlay

    dialogues = read_esconv(ddir / "esconv_hf.jsonl")
    good = {"dialogue_id": dialogues[0].id, "turn": 3, "role": "juliet", "strategy": "Question", "reply": "Why?"}
    path = _overlay(tmp_path, good, {**good, **change})
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_overlay(path, dialogues)
    assert str(err.value).startswith(f"{path}:2:")


@pytest.mark.parametrize("experience_id, message", [("juliet-999", "juliet-999"),
                                                    ("doraemon-012", "is doraemon's, not juliet's")])
def test_overlay_experience_must_be_the_personas_own(ddir, tmp_path, experience_id, message):
    from empath.dialogue.overlay import read_overlay
    from empath.experiences import load_experiences

    dialogues, bank = read_esconv(ddir / "esconv_hf.jsonl"), load_experiences()
    good = {"dialogue_id": dialogues[0].id, "turn": 3, "role": "juliet", "strategy": "Self-disclosure",
            "experience_id": "juliet-001", "reply": "I once waited on a balcony."}
    assert read_overlay(_overlay(tmp_path, good), dialogues, experiences=bank)[0].target.experience_id == "juliet-001"
    path = _overlay(tmp_path, good, {**good, "experience_id": experience_id})
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_overlay(path, dialogues, experiences=bank)
    assert str(err.value).startswith(f"{path}:2:")
