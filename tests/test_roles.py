import pytest
import yaml

from empath._data import DataFileError
from empath.roles import RoleBank, UnknownRoleError, load_roles

PAPER_TOPIC_TO_ROLE = {
    "成长": "sun_wukong", "情绪": "hanamichi_sakuragi", "恋爱": "juliet", "人际": "doraemon", "行为": "conan_edogawa",
    "家庭": "big_big_wolf", "治疗": "naruto_uzumaki", "婚姻": "xiao_longnu", "职业": "harry_potter",
}
ESCONV_PROBLEM_TO_TOPIC = {
    "ongoing depression": "emotion", "job crisis": "career", "breakup with partner": "love",
    "problems with friends": "relationships", "academic pressure": "self_growth", "Sleep Problems": "treatment",
    "Appearance Anxiety": "self_growth", "Issues with Children": "family", "Alcohol Abuse": "behavior",
    "Procrastination": "behavior", "conflict with parents": "family", "Issues with Parents": "family",
    "School Bullying": "relationships",
}


def test_nine_personas_one_per_psyqa_topic():
    bank = load_roles()
    assert len(bank) == 9
    for topic_zh, role_id in PAPER_TOPIC_TO_ROLE.items():
        assert bank.role_for_topic(topic_zh).id == role_id


@pytest.mark.parametrize("problem,topic", ESCONV_PROBLEM_TO_TOPIC.items())
def test_esconv_problem_types_map_case_insensitively(problem, topic):
    bank = load_roles()
    assert bank.topic_for_problem_type(problem).id == topic
    assert bank.topic_for_problem_type(problem.upper()).id == topic


def test_every_role_has_bilingual_profile_and_style():
    for role in load_roles():
        for lang in ("en", "zh"):
            assert role.profile_text(lang)
            assert role.style_description(lang)
            assert len(role.style_examples(lang)) >= 2
        assert role.profile_text("zh") != role.profile_text("en")


def test_unknown_role_lists_valid_ids():
    bank = load_roles()
    with pytest.raises(UnknownRoleError) as err:
        bank.get("batman")
    assert "sun_wukong" in str(err.value) and "harry_potter" in str(err.value)


def test_resolve_by_name_and_alias():
    bank = load_roles()
    assert bank.resolve("Monkey King").id == "sun_wukong"
    assert bank.resolve("哈利·波特").id == "harry_potter"
    assert bank.resolve("juliet").id == "juliet"


def _write_bank_with_extra_role(tmp_path, extra: dict):
    from empath.roles import DEFAULT_ROLES_FILE

    data = yaml.safe_load(DEFAULT_ROLES_FILE.read_text(encoding="utf-8"))
    data["roles"].append(extra)
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_adding_a_persona_is_a_data_entry(tmp_path):
    new = {"id": "mulan", "name_en": "Hua Mulan", "name_zh": "花木兰", "source_en": "Ballad of Mulan",
           "source_zh": "《木兰辞》", "topic": "family",
           "profile": {"en": {"background": "Took her father's place in the army.", "personality": "Brave",
                              "traits": ["dutiful"]}},
           "style": {"en": {"description": "Plain and steady.", "examples": ["One step at a time."]}}}
    bank = RoleBank.from_file(_write_bank_with_extra_role(tmp_path, new))
    assert bank.ids[-1] == "mulan" and len(bank) == 10
    assert [r.id for r in bank.roles_for_topic("family")] == ["big_big_wolf", "mulan"]
    assert "father" in bank.get("mulan").profile_text("zh")  # falls back to English content


def test_invalid_bank_entries_are_reported(tmp_path):
    bad = {"id": "ghost", "name_en": "Ghost", "name_zh": "鬼", "source_en": "x", "source_zh": "x", "topic": "astrology",
           "profile": {"en": {}}, "style": {"en": {}}}
    with pytest.raises(DataFileError, match="unknown topic 'astrology'"):
        RoleBank.from_file(_write_bank_with_extra_role(tmp_path, bad))
    with pytest.raises(DataFileError, match="lacks"):
        RoleBank.from_file(_write_bank_with_extra_role(tmp_path, {"id": "x", "topic": "family"}))
    broken = tmp_path / "broken.yaml"
    broken.write_text("roles: [\n  - id: a\n bad", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"broken\.yaml:\d+"):
        RoleBank.from_file(broken)
