#!/usr/bin/env python3
"""Writes a random T5 checkpoint folder (config.json + model.safetensors) at a real model's shapes,
for timing checkpoint loading without downloading weights:

  python3 scripts/make-random-t5-checkpoint.py /tmp/t5-base-random            # T5 v1.1 base: 248 M params, ~1 GB
  python3 scripts/make-random-t5-checkpoint.py DIR --d-model 512 --d-ff 1024 --layers 8 --heads 6   # v1.1 small

Needs numpy and safetensors (no torch). Values are random normal; the file layout is transformers'.
"""
import argparse, json, os

import numpy as np
from safetensors.numpy import save_file

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--d-model", type=int, default=768)
p.add_argument("--d-kv", type=int, default=64)
p.add_argument("--d-ff", type=int, default=2048)
p.add_argument("--layers", type=int, default=12)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--vocab", type=int, default=32128)
a = p.parse_args()

d, inner, ff, buckets = a.d_model, a.heads * a.d_kv, a.d_ff, 32
rng = np.random.default_rng(0)
tensors = {}
def t(name, *shape):
    tensors[name] = rng.standard_normal(shape, dtype=np.float32) * 0.05
def attention(prefix, bias):
    for w in "qkv":
        t(f"{prefix}.{w}.weight", inner, d)
    t(f"{prefix}.o.weight", d, inner)
    if bias:
        t(f"{prefix}.relative_attention_bias.weight", buckets, a.heads)
def ffn(prefix):
    t(f"{prefix}.wi_0.weight", ff, d); t(f"{prefix}.wi_1.weight", ff, d); t(f"{prefix}.wo.weight", d, ff)
t("shared.weight", a.vocab, d)
for l in range(a.layers):
    attention(f"encoder.block.{l}.layer.0.SelfAttention", l == 0); t(f"encoder.block.{l}.layer.0.layer_norm.weight", d)
    ffn(f"encoder.block.{l}.layer.1.DenseReluDense"); t(f"encoder.block.{l}.layer.1.layer_norm.weight", d)
    attention(f"decoder.block.{l}.layer.0.SelfAttention", l == 0); t(f"decoder.block.{l}.layer.0.layer_norm.weight", d)
    attention(f"decoder.block.{l}.layer.1.EncDecAttention", False); t(f"decoder.block.{l}.layer.1.layer_norm.weight", d)
    ffn(f"decoder.block.{l}.layer.2.DenseReluDense"); t(f"decoder.block.{l}.layer.2.layer_norm.weight", d)
t("encoder.final_layer_norm.weight", d); t("decoder.final_layer_norm.weight", d)
t("lm_head.weight", a.vocab, d)
os.makedirs(a.out, exist_ok=True)
save_file(tensors, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
json.dump({"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "d_model": d, "d_kv": a.d_kv,
           "d_ff": ff, "num_layers": a.layers, "num_decoder_layers": a.layers, "num_heads": a.heads,
           "vocab_size": a.vocab, "relative_attention_num_buckets": buckets, "relative_attention_max_distance": 128,
           "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False, "dropout_rate": 0.1,
           "is_encoder_decoder": True, "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1},
          open(os.path.join(a.out, "config.json"), "w"), indent=1)
print(f"{a.out}: {sum(v.size for v in tensors.values()) / 1e6:.1f} M parameters, "
      f"{os.path.getsize(os.path.join(a.out, 'model.safetensors')) / 1e9:.2f} GB")
