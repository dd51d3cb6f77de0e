"""Experience bank: loading/validation (file:line errors), retrieval vs a brute-force reference, ties,
zero vectors, the KD-tree path, the text blend, and the index rebuild tool."""

import json
import shutil

import numpy as np
import pytest

from empath._data import DataFileError
from empath.emotion import EMOTION_DIMS, get_emotion_scorer
from empath.experiences import Experience, ExperienceBank, ExperienceFileError, top_k
from empath.roles import UnknownRoleError, load_roles

ROLES = load_roles().ids


@pytest.fixture
def bank_dir(fixtures_dir):
    return fixtures_dir / "experiences" / "bank"


@pytest.fixture
def bank(bank_dir):
    return ExperienceBank.load(bank_dir)


def record(i=1, role="sun_wukong", **changes):
    base = {"id": f"t-{i}", "role": role, "source": {"work": "W", "chapter": "C"},
            "text": {"en": "An experience.", "zh": "一段经历。"}, "topics": ["emotion"],
            "emotion": dict(zip(EMOTION_DIMS, [1, 2, 3, 4, 5, 6, 7, 8]))}
    base.update(changes)
    return base


def write_bank(folder, records_by_file):
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in records_by_file.items():
        (folder / name).write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n"
                                           for x in lines), encoding="utf-8")
    return folder


def synthetic(vectors, role="sun_wukong"):
    return [Experience(f"s-{i}", role, {"en": f"text {i}"}, np.asarray(v, np.float32)) for i, v in enumerate(vectors)]


def cosines64(vectors, query):
    """Brute force in float64, one entry at a time; a zero vector scores 0."""
    out = []
    for v in np.asarray(vectors, np.float64):
        denominator = np.linalg.norm(v) * np.linalg.norm(query)
        out.append(float(v @ np.asarray(query, np.float64) / denominator) if denominator > 0 else 0.0)
    return np.array(out)


def assert_matches_brute_force(hits, vectors, query, k):
    """Same similarity at every rank as a full sort; the same experience wherever no other experience
    is within float32 noise (1e-6) of it. Exact ties are checked separately."""
    sims = cosines64(vectors, query)
    reference = sorted(range(len(vectors)), key=lambda i: (-sims[i], i))[:k]
    got = [int(h.experience.id.split("-")[1]) for h in hits]
    assert len(got) == len(reference)
    np.testing.assert_allclose(sims[got], sims[reference], atol=1e-6)
    np.testing.assert_allclose([h.similarity for h in hits], sims[reference], atol=1e-6)
    for rank, i in enumerate(reference):
        if np.sum(np.abs(sims - sims[i]) <= 1e-6) == 1:
            assert got[rank] == i


# -- loading ---------------------------------------------------------------------------------------
def test_load_fixture_bank(bank):
    assert len(bank) == 5 and bank.roles == ROLES
    assert bank.counts()["sun_wukong"] == 4 and bank.counts()["juliet"] == 1
    exp = bank.get("fixture-wukong-1")
    assert exp.role == "sun_wukong" and exp.topics == ("self_growth",) and exp.source["chapter"] == "Chapter 7"
    np.testing.assert_array_equal(exp.emotion, [1, 2, 3, 2, 6, 4, 9, 2])
    assert exp.location.endswith("sun_wukong.jsonl:1")
    assert bank.get("fixture-wukong-3").location.endswith("sun_wukong.jsonl:4")  # blank line skipped
    m = bank.matrix("sun_wukong")
    assert m.dtype == np.float32 and m.shape == (4, 8) and not m.flags.writeable
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, rtol=1e-6)
    assert exp.to_record()["emotion"] == {"joy": 1, "acceptance": 2, "fear": 3, "surprise": 2, "sadness": 6,
                                          "disgust": 4, "anger": 9, "anticipation": 2}


def test_text_for_falls_back(bank):
    both, en_only, zh_only = (bank.get(f"fixture-wukong-{i}") for i in (1, 3, 4))
    assert both.text_for("zh").startswith("测试") and both.text_for("en").startswith("Fixture")
    assert en_only.text_for("zh") == en_only.text["en"]  # empty Chinese text -> English
    assert zh_only.text_for("en") == zh_only.text["zh"]


def test_unknown_role_and_empty_role(bank):
    with pytest.raises(UnknownRoleError) as info:
        bank.retrieve("nobody", [1] * 8)
    assert all(r in str(info.value) for r in ROLES)
    assert bank.retrieve("harry_potter", [5, 1, 1, 1, 1, 1, 1, 1], k=3) == []
    assert bank.experiences("harry_potter") == () and bank.matrix("harry_potter").shape == (0, 8)


def test_malformed_fixture_reports_every_line(fixtures_dir):
    with pytest.raises(ExperienceFileError) as info:
        ExperienceBank.load(fixtures_dir / "experiences" / "malformed")
    lines = str(info.value).splitlines()
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in lines] == ["2", "3", "4", "5", "6", "7"]
    assert all(line.startswith(str(fixtures_dir / "experiences" / "malformed" / "sun_wukong.jsonl")) for line in lines)
    text = str(info.value)
    for expected in ("joy=11", "missing ['anticipation']", "invalid JSON", "duplicate id 'bad-1'",
                     "belong in juliet.jsonl", "unknown topic(s) ['astrology']"):
        assert expected in text


@pytest.mark.parametrize("line, message", [
    ("[1, 2]", "expected a JSON object"),
    (record(id=""), "'id' must be a non-empty string"),
    ({k: v for k, v in record().items() if k != "text"}, "missing field(s) text"),
    (record(text={"fr": "Bonjour"}), "unknown language"),
    (record(text={"en": "  ", "zh": ""}), "at least one must be non-empty"),
    (record(emotion={**record()["emotion"], "joy": True}), "joy=True"),
    (record(emotion={**record()["emotion"], "fear": "high"}), "fear='high'"),
    (record(emotion={**record()["emotion"], "trust": 3}), "unknown ['trust']"),
    (record(emotion=[1, 2, 3, 4, 5, 6, 7, 8]), "'emotion' must be an object"),
    (record(source="a book"), "'source' must be an object"),
    (record(topics="love"), "'topics' must be a list"),
])
def test_record_validation(tmp_path, line, message):
    write_bank(tmp_path / "exp", {"sun_wukong.jsonl": [record(0), line]})
    with pytest.raises(ExperienceFileError) as info:
        ExperienceBank.load(tmp_path / "exp")
    assert str(info.value).startswith(f"{tmp_path / 'exp' / 'sun_wukong.jsonl'}:2: ")
    assert message in str(info.value)


def test_unknown_role_file_lists_valid_roles(tmp_path):
    write_bank(tmp_path / "exp", {"voldemort.jsonl": [record(role="voldemort")]})
    with pytest.raises(ExperienceFileError, match="voldemort.jsonl:1: unknown role 'voldemort'; valid: sun_wukong"):
        ExperienceBank.load(tmp_path / "exp")


def test_load_locations(tmp_path, monkeypatch, bank_dir):
    monkeypatch.setenv("EMPATH_EXPERIENCES", str(bank_dir))
    assert len(ExperienceBank.load()) == 5
    assert len(ExperienceBank.load(bank_dir / "juliet.jsonl")) == 1  # a single file
    assert len(ExperienceBank.load(write_bank(tmp_path / "empty", {}))) == 0
    with pytest.raises(DataFileError, match="neither an existing folder nor a Hub repo id"):
        ExperienceBank.load(str(tmp_path / "missing" / "folder"))


def test_repository_experiences_are_valid():
    """Whatever the content files hold must load (validation is the contract with their authors)."""
    from empath.experiences import experiences_dir

    if not any(experiences_dir(None).glob("*.jsonl")):
        pytest.skip("no experience files in the repository yet")
    bank = ExperienceBank.load(experiences_dir(None))
    assert len(bank) > 0 and set(bank.roles) == set(ROLES)


# -- retrieval -----------------------------------------------------------------------------------------
def test_retrieval_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    vectors = rng.integers(1, 11, size=(400, 8)).astype(np.float32)
    vectors[50] = vectors[10]  # exact duplicates -> ties broken by file order
    vectors[300] = vectors[10]
    vectors[120] = 0.0  # a zero vector scores 0 against everything
    bank = ExperienceBank(synthetic(vectors), roles=["sun_wukong", "juliet"])
    queries = list(rng.integers(1, 11, size=(30, 8)).astype(np.float32)) + [vectors[10], vectors[10] * 2.5]
    for query in queries:
        for k in (1, 2, 3, 10, 400, 500):
            assert_matches_brute_force(bank.retrieve("sun_wukong", query, k=k), vectors, query, k)
    top3 = bank.retrieve("sun_wukong", vectors[10], k=3)
    assert [h.experience.id for h in top3] == ["s-10", "s-50", "s-300"]
    assert all(h.similarity == pytest.approx(1.0) for h in top3)
    np.testing.assert_allclose(bank.similarities("sun_wukong", vectors[10])[[10, 120]], [1.0, 0.0], atol=1e-6)


def test_zero_and_invalid_query_vectors(bank):
    hits = bank.retrieve("sun_wukong", np.zeros(8), k=2)
    assert [h.experience.id for h in hits] == ["fixture-wukong-1", "fixture-wukong-2"]
    assert [h.similarity for h in hits] == [0.0, 0.0]
    with pytest.raises(ValueError, match="8 values"):
        bank.retrieve("sun_wukong", [1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        bank.retrieve("sun_wukong", [np.nan] + [1] * 7)
    with pytest.raises(ValueError, match="k must be"):
        bank.retrieve("sun_wukong", [1] * 8, k=0)


def test_top_k_helper_is_stable():
    scores = np.array([0.5, 0.9, 0.9, 0.1, 0.9, 0.5], np.float32)
    assert top_k(scores, 1).tolist() == [1]
    assert top_k(scores, 2).tolist() == [1, 2]
    assert top_k(scores, 4).tolist() == [1, 2, 4, 0]
    assert top_k(scores, 10).tolist() == [1, 2, 4, 0, 5, 3]
    assert top_k(np.zeros(0, np.float32), 3).tolist() == []


def test_kd_tree_path_equals_matrix_path():
    rng = np.random.default_rng(3)
    vectors = rng.integers(1, 11, size=(3000, 8)).astype(np.float32)
    vectors[2000:2010] = vectors[7]  # a block of ties (more than the tree probes at once)
    vectors[2500] = vectors[100]  # a single tie
    experiences = synthetic(vectors)
    scan = ExperienceBank(experiences, roles=["sun_wukong"], index_threshold=10**9)
    tree = ExperienceBank(experiences, roles=["sun_wukong"], index_threshold=1)
    for query in list(rng.integers(1, 11, size=(25, 8))) + [vectors[7], vectors[2500]]:
        for k in (1, 4, 12):
            a = scan.retrieve("sun_wukong", query, k=k)
            b = tree.retrieve("sun_wukong", query, k=k)
            assert [h.experience.id for h in a] == [h.experience.id for h in b]
            np.testing.assert_allclose([h.similarity for h in a], [h.similarity for h in b], atol=1e-6)
    assert "sun_wukong" in tree._trees and not scan._trees
    assert [h.experience.id for h in tree.retrieve("sun_wukong", vectors[2500], k=2)] == ["s-100", "s-2500"]
    assert [h.experience.id for h in tree.retrieve("sun_wukong", vectors[7], k=3)] == ["s-7", "s-2000", "s-2001"]


def test_text_blend(bank):
    sad = [1, 3, 4, 3, 9, 2, 5, 2]
    emotion_only = bank.retrieve("sun_wukong", sad, k=1)
    assert emotion_only[0].experience.id == "fixture-wukong-3"
    assert bank.retrieve("sun_wukong", sad, k=1, query_text="anything", text_weight=0.0) == emotion_only
    blended = bank.retrieve("sun_wukong", sad, k=4, query_text="We found a new home and threw a big celebration.",
                            text_weight=1.0)
    assert blended[0].experience.id == "fixture-wukong-2"
    assert blended[0].similarity > blended[1].similarity
    with pytest.raises(ValueError, match="text_weight"):
        bank.retrieve("sun_wukong", sad, text_weight=1.5, query_text="x")


# -- rebuilding the vectors -------------------------------------------------------------------------------
def test_build_experience_index_is_idempotent(tmp_path, bank_dir):
    from training.build_experience_index import main, rebuild

    folder = tmp_path / "exp"
    shutil.copytree(bank_dir, folder)
    before = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.jsonl")}
    first = rebuild(folder, "default", progress=False)
    assert first["records"] == 5 and first["changed"] >= 1
    assert main(["--path", str(folder), "--check", "--quiet"]) == 0  # nothing left to change
    second = rebuild(folder, "default", progress=False)
    assert second["changed"] == 0 and second["files_changed"] == []
    reloaded = ExperienceBank.load(folder)
    scorer_vector = get_emotion_scorer().score(reloaded.get("fixture-juliet-1").text_for("en"))
    np.testing.assert_array_equal(reloaded.get("fixture-juliet-1").emotion, np.round(scorer_vector))
    # everything but the vectors is unchanged, including the blank line
    for name, text in before.items():
        old = [json.loads(x) for x in text.splitlines() if x.strip()]
        new_text = (folder / name).read_text(encoding="utf-8")
        new = [json.loads(x) for x in new_text.splitlines() if x.strip()]
        assert [{k: v for k, v in r.items() if k != "emotion"} for r in old] == \
               [{k: v for k, v in r.items() if k != "emotion"} for r in new]
        assert new_text.count("\n") == text.count("\n")
    # --check reports pending changes with exit status 1 and writes nothing
    (folder / "juliet.jsonl").write_text(before["juliet.jsonl"], encoding="utf-8")
    assert main(["--path", str(folder), "--check", "--quiet"]) == 1
    assert (folder / "juliet.jsonl").read_text(encoding="utf-8") == before["juliet.jsonl"]


def test_centred_similarity_discriminates_where_the_raw_cosine_does_not():
    """All-positive 1-10 vectors: the raw cosine of the best hit is high for any query (issue 10 item 7); the
    centred cosine shown to users spreads out, and the ranking is still the paper's (Eq. 7-8)."""
    bank = ExperienceBank.load()  # the shipped experiences
    rng = np.random.default_rng(0)
    raw, centred = [], []
    for role in ("juliet", "sun_wukong", "harry_potter"):
        sims_matrix = bank.matrix(role)
        for _ in range(30):
            query = rng.uniform(1, 10, size=len(EMOTION_DIMS)).astype(np.float32)
            hit = bank.retrieve(role, query, k=1)[0]
            assert hit.experience is bank.experiences(role)[int(np.argmax(sims_matrix @ (query / np.linalg.norm(query))))]
            assert hit.centred_similarity == pytest.approx(bank.centred_similarity(role, query, hit.experience))
            raw.append(hit.similarity)
            centred.append(hit.centred_similarity)
    assert min(raw) > 0.75 and max(raw) - min(raw) < 0.25  # the problem: raw cosine hardly varies
    assert np.std(centred) > 3 * np.std(raw) and max(centred) - min(centred) > 0.5  # centred: it discriminates
    mean = np.mean([e.emotion for e in bank.experiences("juliet")], axis=0)
    assert bank.centred_similarity("juliet", mean, bank.experiences("juliet")[0]) is None  # at the mean: no direction
