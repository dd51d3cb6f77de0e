import json
import os
import subprocess
import sys

import pytest

from empath.__main__ import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wrong_role_is_a_one_line_error_listing_valid_ids(capsys):
    assert main(["chat", "--message", "hello", "--role", "batman"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown role 'batman'" in err and "sun_wukong" in err and "harry_potter" in err


def test_wrong_strategy_and_empty_message_fail_fast(capsys):
    assert main(["chat", "--message", "hello", "--strategy", "Hypnosis"]) == 2
    assert "unknown strategy" in capsys.readouterr().err
    assert main(["chat", "--message", "   "]) == 2
    assert "empty" in capsys.readouterr().err


@pytest.mark.slow
def test_chat_json_on_the_offline_default():
    """The README's first command, cold, in a fresh process."""
    out = subprocess.run([sys.executable, "-m", "empath", "chat", "--message", "I lost my job and I feel worthless",
                          "--json", "--max-new-tokens", "48", "--seed", "0"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["role"] in {"harry_potter", "hanamichi_sakuragi", "sun_wukong", "naruto_uzumaki",
                              "doraemon", "juliet", "conan_edogawa", "big_big_wolf", "xiao_longnu"}
    assert result["strategy"] and result["response"].strip()
    assert result["crisis"] is False and len(result["emotion"]) == 8


@pytest.mark.slow
def test_chinese_on_the_offline_default_prints_the_notice_and_no_generated_text():
    env = {k: v for k, v in os.environ.items() if k not in ("EMPATH_BASE_MODEL", "EMPATH_MODEL_LANGUAGES")}
    out = subprocess.run([sys.executable, "-m", "empath", "chat", "--message", "我最近总是失眠", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["response"] == "" and result["error"] is None
    assert "SmolLM2-135M-Instruct" in result["notice"] and "中文" in result["notice"]
    assert "EMPATH_BASE_MODEL=" in result["notice"]
    assert result["lang"] == "zh" and result["role"] and result["strategy"] and result["crisis"] is False
    assert result["experience"] and len(result["emotion"]) == 8
