#!/usr/bin/env python3
"""Pretrained-student fixtures for PretrainedStudentTests (transformers is the oracle).

  make OUT CORPUS.txt   a tiny random T5 v1.1 (gated-gelu, untied head) saved by transformers,
                        with a unigram spiece.model trained by the sentencepiece package on
                        CORPUS (one text a line); the folder holds spiece.model, config.json,
                        model.safetensors, tokenizer_config.json — the layout of the hub's
                        google/t5-v1_1-* repositories (no tokenizer.json)
  greedy FOLDER REQ OUT opens FOLDER with T5ForConditionalGeneration.from_pretrained and
                        AutoTokenizer, encodes REQ's texts, decodes greedily, and writes the
                        input ids, output ids and decoded texts as JSON
"""
import json
import os
import shutil
import sys
import tempfile


def make(out, corpus):
    import sentencepiece as spm
    import torch
    from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast

    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(tmp, "spiece"), model_type="unigram",
                                       vocab_size=160, hard_vocab_limit=False, normalization_rule_name="nmt_nfkc",
                                       character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                       minloglevel=2, num_threads=1)
        shutil.copy(os.path.join(tmp, "spiece.model"), os.path.join(out, "spiece.model"))
    tokenizer = T5TokenizerFast.from_pretrained(out)   # transformers' own conversion of spiece.model
    vocab = len(tokenizer) + 4                       # a few spare rows, like t5's 32128 for 32100 ids
    torch.manual_seed(7)
    config = T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=4,
                      relative_attention_num_buckets=8, relative_attention_max_distance=20,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.1,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    model = T5ForConditionalGeneration(config)
    with torch.no_grad():
        # Its own head values (transformers 5.x keeps such a head untied on load), at unit logit scale.
        model.lm_head.weight = torch.nn.Parameter(torch.randn(vocab, 32) * 32 ** -0.5)
    model.save_pretrained(out)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 512, "extra_ids": 100, "eos_token": "</s>", "unk_token": "<unk>",
                   "pad_token": "<pad>"}, f)
    for name in ["tokenizer.json", "generation_config.json"]:
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    print(f"{out}: {sum(p.numel() for p in model.parameters())} parameters, {len(tokenizer)} tokenizer ids, vocab {vocab}")


def greedy(folder, request, out):
    import torch
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    req = json.load(open(request))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = T5ForConditionalGeneration.from_pretrained(folder)
    model.eval()
    result = {"input_ids": [], "output_ids": [], "texts": []}
    for text in req["texts"]:
        ids = tokenizer(text).input_ids
        with torch.no_grad():
            gen = model.generate(input_ids=torch.tensor([ids]), max_new_tokens=req["max_new_tokens"], do_sample=False,
                                 num_beams=1, use_cache=False)
        row = gen[0].tolist()[1:]   # without the decoder start
        row = row[:row.index(1)] if 1 in row else row
        result["input_ids"].append(ids)
        result["output_ids"].append(row)
        result["texts"].append(tokenizer.decode(row, skip_special_tokens=True))
    json.dump(result, open(out, "w"))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"make": make, "greedy": greedy}[command](*args)
