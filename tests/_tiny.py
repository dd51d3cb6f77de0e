"""Tiny causal LMs built from configs (nothing downloaded), with the packaged SmolLM2 tokenizer."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def smollm_tokenizer():
    from transformers import AutoTokenizer

    from empath.hub import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model())
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def tiny_llama(vocab_size: int, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)
    return LlamaForCausalLM(config).eval()


def tiny_generator(max_context_tokens: int = 2048):
    from empath.generation import ChatGenerator

    tok = smollm_tokenizer()
    return ChatGenerator(tiny_llama(len(tok)), tok, max_context_tokens=max_context_tokens)


def tiny_adapter_generator(max_context_tokens: int = 2048, seed: int = 0):
    """The tiny LM wrapped in a tiny Group MoELoRA adapter over every persona and strategy: the configuration
    app users get (the offline default loads the demo adapter), so routing and ``disable_adapter`` paths run."""
    import torch

    from empath.adapter import adapter_config, create_adapter
    from empath.generation import ChatGenerator

    tok = smollm_tokenizer()
    config = adapter_config(r=2, num_role_experts=4, num_strategy_experts=4, embedding_dim=8, lora_dropout=0.0,
                            embedding_init="learned", init_lora_weights=False)
    torch.manual_seed(seed + 1)
    model = create_adapter(tiny_llama(len(tok), seed), config).eval()
    return ChatGenerator(model, tok, max_context_tokens=max_context_tokens)


class ExplodingModel:
    """A model whose generate() fails as a lost GPU would (error paths of the pipeline, app and API)."""

    def generate(self, **kwargs):
        raise RuntimeError("CUDA out of memory")

    def parameters(self):
        import torch

        yield torch.zeros(1)
