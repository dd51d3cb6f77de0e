"""Group MoELoRA fine-tuning (empath.group_moelora.training, Empath's side in empath.adapter, and
training/train_group_moelora.py) on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from empath.adapter import adapter_config, build_examples
from empath.dialogue import read_dialogues
from empath.group_moelora import GroupMoELoraConfig, GroupMoELoraModel
from empath.group_moelora.training import RoutedCollator
from empath.roles import load_roles
from empath.strategies import STRATEGY_NAMES

FIXTURE = Path(__file__).parent / "fixtures" / "group_moelora" / "dialogues.jsonl"
torch.set_num_threads(1)


def byte_tokenizer():
    """A byte-level tokenizer with a chat template, built in code (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    vocab["<|end|>"] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|end|>", pad_token="<|end|>")
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}<|end|>{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    return tokenizer


@pytest.fixture(scope="module")
def tiny_base_dir(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny_llama")
    tokenizer = byte_tokenizer()
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=48,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_examples_put_loss_on_the_supporter_reply_only():
    dialogues = read_dialogues(FIXTURE)
    tokenizer = byte_tokenizer()
    roles = load_roles().ids
    examples, skipped = build_examples(dialogues, tokenizer, roles, list(STRATEGY_NAMES), max_source_length=4096)
    assert len(examples) == 4 and not skipped
    first = examples[0]
    assert first["role_ids"] == roles.index("sun_wukong") and first["strategy_ids"] == STRATEGY_NAMES.index("Question")
    reply = [t for t, label in zip(first["input_ids"], first["labels"]) if label != -100]
    assert tokenizer.decode(reply) == "That must feel heavy. What happened in the exams?<|end|>"
    prompt = tokenizer.decode(first["input_ids"][: len(first["input_ids"]) - len(reply)])
    assert prompt.startswith("<system>") and "I failed two exams" in prompt and prompt.endswith("<assistant>")
    # roles/strategies the adapter does not know are skipped with a reason
    examples, skipped = build_examples(dialogues, tokenizer, ["juliet"], ["Question"])
    assert examples == [] and any("sun_wukong" in s for s in skipped) and any("Providing Suggestions" in s for s in skipped)
    batch = RoutedCollator(tokenizer.pad_token_id)(build_examples(dialogues, tokenizer, roles, list(STRATEGY_NAMES))[0][:2])
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert batch["role_ids"].tolist() == [roles.index("sun_wukong")] * 2


def test_cli_trains_two_steps_saves_and_is_seeded(tiny_base_dir, tmp_path):
    from training.train_group_moelora import main

    common = ["--data", str(FIXTURE), "--base-model", str(tiny_base_dir), "--max-steps", "2", "--lr", "1e-2",
              "--r", "2", "--role-experts", "2", "--strategy-experts", "2", "--embedding-dim", "8",
              "--embedding-init", "learned", "--batch-size", "2", "--logging-steps", "1"]
    assert main(common + ["--out", str(tmp_path / "a")]) == 0
    assert main(common + ["--out", str(tmp_path / "b")]) == 0
    from safetensors.torch import load_file

    a = load_file(tmp_path / "a" / "adapter_model.safetensors")
    b = load_file(tmp_path / "b" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # same seed, same adapter
    assert any(v.abs().sum() > 0 for k, v in a.items() if k.endswith("moelora_B"))  # B moved off zero: it trained
    config = GroupMoELoraConfig.from_pretrained(tmp_path / "a")
    assert config.base_model_name_or_path == str(tiny_base_dir)
    from transformers import AutoModelForCausalLM

    loaded = GroupMoELoraModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base_dir), tmp_path / "a")
    out = loaded.generate(input_ids=torch.tensor([[5, 6, 7]]), role_ids="juliet", strategy_ids="Question",
                          max_new_tokens=3, do_sample=False)
    assert out.shape == (1, 6)


def test_cli_reports_bad_data_clearly(tmp_path, capsys):
    from training.train_group_moelora import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    assert main(["--data", str(bad), "--out", str(tmp_path / "o"), "--base-model", str(tmp_path)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


def _tiny_examples():
    dialogues = read_dialogues(FIXTURE)
    examples, _ = build_examples(dialogues, byte_tokenizer(), load_roles().ids, list(STRATEGY_NAMES))
    return examples


def test_reply_only_logits_give_the_same_loss_as_full_logits(tiny_base_dir):
    """Left padding + logits on reply positions only: the loss of the full right-padded forward, cheaper."""
    from transformers import AutoModelForCausalLM

    from empath.group_moelora import get_group_moelora_model
    from empath.group_moelora.training import ReplyOnlyCollator, reply_loss

    torch.manual_seed(0)
    config = adapter_config(r=2, num_role_experts=2, num_strategy_experts=2, embedding_dim=8,
                            embedding_init="learned", init_lora_weights=False, lora_dropout=0.0)
    model = get_group_moelora_model(AutoModelForCausalLM.from_pretrained(tiny_base_dir), config).eval()
    examples = _tiny_examples()[:3]
    assert len({len(e["input_ids"]) for e in examples}) > 1  # padding really happens
    pad = byte_tokenizer().pad_token_id
    fast = ReplyOnlyCollator(pad)(examples)
    assert int(fast["logits_to_keep"]) < fast["input_ids"].shape[1]
    full = RoutedCollator(pad)(examples)
    with torch.no_grad():
        expected = model(**full).loss
        got = reply_loss(model, fast)
    assert got.item() == pytest.approx(expected.item(), rel=1e-4)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tiny_base_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    from empath.adapter import train
    from empath.group_moelora.training import last_checkpoint

    from transformers import TrainerCallback

    class KillAt(TrainerCallback):
        """Stops the run after a step, as a kill would (its checkpoints stay)."""

        def __init__(self, step):
            self.step = step

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step >= self.step:
                control.should_training_stop = True

    def run(out, kill_at=None):
        config = adapter_config(r=2, num_role_experts=2, num_strategy_experts=2, embedding_dim=8,
                                embedding_init="learned", lora_dropout=0.0)
        base = AutoModelForCausalLM.from_pretrained(tiny_base_dir)
        return train(base, [], out, tokenizer=byte_tokenizer(), config=config, examples=_tiny_examples(),
                     max_steps=4, learning_rate=1e-2, per_device_train_batch_size=1, save_steps=1,
                     save_total_limit=None, reply_logits_only=True, resume=True, logging_steps=1,
                     callbacks=[KillAt(kill_at)] if kill_at else None)

    run(tmp_path / "interrupted", kill_at=2)  # killed after step 2: its checkpoints stay
    assert last_checkpoint(tmp_path / "interrupted").endswith("checkpoint-2")
    resumed = run(tmp_path / "interrupted")  # the same command again continues at step 3
    straight = run(tmp_path / "straight")
    assert last_checkpoint(tmp_path / "interrupted").endswith("checkpoint-4")
    a, b = resumed.adapter_state_dict(), straight.adapter_state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)  # same weights as an uninterrupted run
