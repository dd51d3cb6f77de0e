"""``python -m empath export-routes`` (issue 12, item 2): every route as a PEFT LoRA named as the OpenAI-compatible
backend asks for it, and the vllm serve line, on a tiny adapter."""

from __future__ import annotations

import json
import subprocess

import torch

from empath.__main__ import main
from empath.remote import route_model_name
from empath.strategies import STRATEGY_NAMES
from tests._tiny import tiny_adapter_generator


def test_every_route_is_exported_and_served_by_name(tmp_path, capsys):
    model = tiny_adapter_generator().model
    adapter = tmp_path / "adapter"
    model.save_pretrained(adapter)
    out = tmp_path / "routes"
    assert main(["export-routes", "--adapter", str(adapter), "--out", str(out), "--base-model", "org/tiny"]) == 0
    assert "routes (rank 16" in capsys.readouterr().out
    manifest = json.loads((out / "routes.json").read_text())
    roles = model.role_names
    names = [r["name"] for r in manifest["routes"]]
    assert len(names) == len(roles) * (len(STRATEGY_NAMES) + 1)
    assert route_model_name("juliet", "Reflection of feelings") in names and "juliet--uniform" in names
    assert all((out / n / "adapter_model.safetensors").is_file() and (out / n / "adapter_config.json").is_file()
               for n in names)
    assert manifest["exact"] and manifest["max_lora_rank"] == 16 and manifest["max_loras"] == 16
    script = (out / "serve-vllm.sh").read_text()
    assert 'vllm serve "${EMPATH_VLLM_BASE:-org/tiny}" --enable-lora --max-loras 16' in script
    assert f"--max-cpu-loras {len(names)} --max-lora-rank 16" in script
    assert all(f'{n}="$HERE/{n}"' in script for n in names)
    assert subprocess.run(["sh", "-n", str(out / "serve-vllm.sh")]).returncode == 0  # valid shell
    readme = (out / "README.md").read_text()
    assert "EMPATH_LLM_ROUTES=lora" in readme and "--tensor-parallel-size" in readme

    # An exported route is the fused route: a plain PEFT LoRA on the base gives the same logits.
    from peft import PeftModel

    x = torch.arange(1, 13).unsqueeze(0)
    with torch.no_grad():
        fused = {r: model(input_ids=x, role_ids="juliet", **kw).logits for r, kw in (
            ("juliet--question", {"strategy_ids": "Question"}),
            ("juliet--uniform", {"strategy_weights": [1 / 8] * 8}))}
        base = model.unload()
        for name, expected in fused.items():
            lora = PeftModel.from_pretrained(base, str(out / name)).eval()
            torch.testing.assert_close(lora(input_ids=x).logits, expected, atol=1e-4, rtol=1e-4)
            base = lora.unload()


def test_truncated_routes_report_their_error(tmp_path):
    from empath.route_export import export_routes

    adapter = tmp_path / "adapter"
    tiny_adapter_generator().model.save_pretrained(adapter)
    manifest = export_routes(adapter, tmp_path / "routes", rank=2, uniform=False)
    assert manifest["rank"] == 2 and not manifest["exact"] and manifest["max_lora_rank"] == 8
    assert len(manifest["routes"]) == 9 * 8
    assert all(0 < r["relative_error"] < 1 for r in manifest["routes"])
    assert "BASE_MODEL" in (tmp_path / "routes" / "README.md").read_text()  # the tiny adapter names no base
