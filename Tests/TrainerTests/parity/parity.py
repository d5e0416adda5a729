#!/usr/bin/env python3
"""Parity of Stepwise's embedded trainer with transformers' T5ForConditionalGeneration.

  parity.py make DIR     build small random models in transformers — T5 v1.1 (gated-gelu, untied
                         head), the original T5 (relu, tied head, output rescaling) and a gated
                         model with a tied head — and save each in every weight format the trainer
                         reads (DIR/<model>/<format>: model.safetensors, sharded safetensors,
                         pytorch_model.bin in fp32 with strided and offset tensors, fp16, bf16,
                         zip64, sharded pytorch_model.bin), a batch (DIR/batch.json) and the list of
                         cases (DIR/cases.json)
  parity.py compare DIR  recompute logits, loss, every parameter gradient and greedy outputs in
                         torch and compare with what the Swift side wrote into each case folder
                         (swift.safetensors, swift_greedy.json); open each Swift-saved folder
                         (DIR/swift_saved_<model>) with from_pretrained and compare its logits
  parity.py bad DIR      write checkpoint folders the trainer must refuse (DIR/bad/<case>)

Tolerance per tensor: max|swift - torch| <= 1e-4 * max|torch|; greedy outputs token for token.
fp16/bf16 checkpoints are compared with the torch model whose weights went through the same
rounding. Exit status 0 = parity, 1 = mismatch. Driven by Tests/TrainerTests/ParityTests.swift.
"""
import json, os, sys, zipfile

import torch
from safetensors.torch import load_file
from transformers import T5Config, T5ForConditionalGeneration

TOL = 1e-4
MAX_NEW = 12
VOCAB = 61


def config(**over):
    # Few buckets and a non-default max distance so the logarithmic buckets are exercised by short
    # sequences; more decoder layers than encoder layers; d_kv * heads != d_model.
    c = dict(vocab_size=VOCAB, d_model=32, d_kv=6, d_ff=40, num_layers=2, num_decoder_layers=3, num_heads=4,
             relative_attention_num_buckets=10, relative_attention_max_distance=24,
             feed_forward_proj="gated-gelu", dropout_rate=0.0,
             decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    c.update(over)
    return c


def build_models():
    torch.manual_seed(1234)
    # T5 v1.1: shared input embedding, untied head, no rescaling. transformers 5.x turns
    # tie_word_embeddings=False into scale_decoder_outputs=False and then ties everything anyway;
    # give the head its own values and it stays separate (also on from_pretrained, which only
    # ties tensors whose saved values agree).
    v11 = T5ForConditionalGeneration(T5Config(tie_word_embeddings=False, **config()))
    v11.lm_head.weight = torch.nn.Parameter(v11.shared.weight.detach().clone())
    # The original T5: relu feed-forward (wi, wo), head tied to the shared embedding, decoder
    # output scaled by d_model^-0.5; other layer counts and max distance than v11.
    original = T5ForConditionalGeneration(T5Config(**config(
        feed_forward_proj="relu", num_layers=3, num_decoder_layers=2, d_kv=5, d_ff=36,
        relative_attention_max_distance=20)))
    # A gated model with a tied head and the rescaling.
    gated_tied = T5ForConditionalGeneration(T5Config(**config()))
    models = {"v11": v11, "original": original, "gated_tied": gated_tied}
    for name, m in models.items():
        with torch.no_grad():
            for n, p in m.named_parameters():
                if "layer_norm" in n:  # random norm weights so their gradients are not trivial
                    p.uniform_(0.5, 1.5)
            if name == "v11":
                m.lm_head.weight.normal_(0, 32 ** -0.5)
            head = m.lm_head.weight
            head[1] = 1.3 * head[28] + 0.3 * head[1]  # eos likely: some rows stop early
    return models


def torch_save_state(state, path, dtype=None, views=False):
    """torch.save of a state dict as transformers' legacy writer does; with `views`, some tensors
    are saved as a transposed view and as a slice at an offset of a larger storage."""
    out = {}
    for i, (k, v) in enumerate(state.items()):
        v = v.detach()
        if dtype is not None:
            v = v.to(dtype)
        if views and v.dim() == 2 and i % 3 == 0:
            v = v.t().contiguous().t()              # strides (1, rows)
        elif views and v.dim() == 2 and i % 3 == 1:
            big = torch.cat([torch.zeros(7, dtype=v.dtype), v.reshape(-1), torch.zeros(3, dtype=v.dtype)])
            v = big[7:7 + v.numel()].view(v.shape)  # storage offset 7
        out[k] = v
    torch.save(out, path)


def rewrite_as_zip64(src, dst):
    """The same zip with more entries than a plain zip's directory can count, which makes it zip64
    (end-of-directory record and locator), as torch.save does for checkpoints over 4 GB."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info.filename))
        prefix = z.namelist()[0].split("/")[0]
        for i in range(0x10000):
            out.writestr(f"{prefix}/padding/{i}", b"")


def save_formats(m, folder, zip64):
    """Every format; returns [(case folder, weights dtype)]."""
    cases = []
    def case(fmt, dtype="float32"):
        path = os.path.join(folder, fmt)
        os.makedirs(path, exist_ok=True)
        m.config.save_pretrained(path)
        cases.append((path, dtype))
        return path
    m.save_pretrained(case("safetensors"))
    m.save_pretrained(case("sharded_safetensors"), max_shard_size="40KB")
    state = m.state_dict()
    torch_save_state(state, os.path.join(case("bin_fp32"), "pytorch_model.bin"), views=True)
    torch_save_state(state, os.path.join(case("bin_fp16", "float16"), "pytorch_model.bin"), dtype=torch.float16)
    torch_save_state(state, os.path.join(case("bin_bf16", "bfloat16"), "pytorch_model.bin"), dtype=torch.bfloat16)
    if zip64:
        rewrite_as_zip64(os.path.join(folder, "bin_fp32", "pytorch_model.bin"),
                         os.path.join(case("bin_zip64"), "pytorch_model.bin"))
    path = case("sharded_bin")
    keys = list(state)
    halves = {"pytorch_model-00001-of-00002.bin": keys[:len(keys) // 2],
              "pytorch_model-00002-of-00002.bin": keys[len(keys) // 2:]}
    for file, ks in halves.items():
        torch_save_state({k: state[k] for k in ks}, os.path.join(path, file))
    with open(os.path.join(path, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": {k: file for file, ks in halves.items() for k in ks}}, f)
    return cases


def make(out):
    models = build_models()
    cases = []
    for name, m in models.items():
        for path, dtype in save_formats(m, os.path.join(out, name), zip64=name == "v11"):
            # the Swift-saved copy of each architecture, from its first format
            save = os.path.join(out, "swift_saved_" + name) if path.endswith("/safetensors") and name != "gated_tied" else None
            if name == "v11" or not path.endswith("/bin_zip64"):
                cases.append({"model": name, "folder": path, "dtype": dtype, "save_to": save})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    g = torch.Generator().manual_seed(7)
    in_lens, tgt_lens = [30, 17, 5, 26], [9, 21, 4, 13]
    inputs = [torch.randint(2, VOCAB, (n,), generator=g).tolist() for n in in_lens]
    targets = [torch.randint(2, VOCAB, (n - 1,), generator=g).tolist() + [1] for n in tgt_lens]
    with open(os.path.join(out, "batch.json"), "w") as f:
        json.dump({"inputs": inputs, "targets": targets, "max_new_tokens": MAX_NEW}, f)


def pad(seqs, value):
    n = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (n - len(s)) for s in seqs])


def reference(case):
    """The torch model for a case: the model's safetensors save, its weights rounded like the case's."""
    m = T5ForConditionalGeneration.from_pretrained(os.path.join(os.path.dirname(case["folder"]), "safetensors"))
    if case["dtype"] != "float32":
        dt = getattr(torch, case["dtype"])
        with torch.no_grad():
            for p in m.parameters():
                p.copy_(p.to(dt).float())
    m.eval()
    tied = case["model"] != "v11"
    assert m.encoder.embed_tokens.weight is m.shared.weight and m.decoder.embed_tokens.weight is m.shared.weight
    assert (m.lm_head.weight is m.shared.weight) == tied, "unexpected head tying in transformers"
    return m


def greedy(m, ids, mask, max_new):
    # use_cache=False: transformers 5.x sizes its decoder cache by num_layers, which breaks
    # generate when num_decoder_layers > num_layers. Greedy results do not depend on the cache.
    gen = m.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new, do_sample=False, num_beams=1,
                     use_cache=False)
    ref = []
    for row in gen.tolist():
        row = row[1:]  # decoder_start
        ref.append(row[:row.index(1)] if 1 in row else row)
    return ref


def compare(out):
    batch = json.load(open(os.path.join(out, "batch.json")))
    cases = json.load(open(os.path.join(out, "cases.json")))
    ids = pad(batch["inputs"], 0)
    mask = (ids != 0).long()
    labels = pad(batch["targets"], -100)
    ok = True
    for case in cases:
        label = os.path.relpath(case["folder"], out)
        m = reference(case)
        res = m(input_ids=ids, attention_mask=mask, labels=labels)
        res.loss.backward()
        sw = load_file(os.path.join(case["folder"], "swift.safetensors"))
        worst, failures = 0.0, []

        def check(what, a, b):
            nonlocal worst
            a, b = a.reshape(-1).double(), b.reshape(-1).double()
            if a.shape != b.shape:
                failures.append(f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"); return
            err, scale = (a - b).abs().max().item(), b.abs().max().item()
            rel = err / max(scale, 1e-30)
            worst = max(worst, rel)
            if err > TOL * scale:
                failures.append(f"{what}: max|a-b| = {err:.3e}, max|b| = {scale:.3e}, rel = {rel:.2e}")

        check("logits", sw["logits"], res.logits.detach())
        check("loss", sw["loss"], res.loss.detach())
        names = set()
        for n, p in m.named_parameters():
            names.add(n)
            if p.grad is None:
                failures.append(f"{n}: no torch gradient"); continue
            if "grad." + n not in sw:
                failures.append(f"{n}: missing in swift output"); continue
            check("grad " + n, sw["grad." + n], p.grad)
        extra = [k for k in sw if k.startswith("grad.") and k[5:] not in names]
        if extra:
            failures.append(f"swift has parameters torch does not: {extra}")
        ref = greedy(m, ids, mask, batch["max_new_tokens"])
        got = json.load(open(os.path.join(case["folder"], "swift_greedy.json")))
        if got != ref:
            failures.append(f"greedy outputs differ:\n    torch: {ref}\n    swift: {got}")
        print(f"[{label}] loss torch {res.loss.item():.6f} swift {sw['loss'].item():.6f}; worst relative error over "
              f"logits, loss and {len(names)} gradients {worst:.2e}; greedy {'identical' if got == ref else 'DIFFER'} "
              f"({sum(len(r) for r in ref)} tokens)  {'ok' if not failures else 'FAIL'}")
        for f in failures:
            print("   ", f)
        ok = ok and not failures
        # A folder written by Stepwise opens in transformers with the same structure and logits.
        if case["save_to"]:
            s = T5ForConditionalGeneration.from_pretrained(case["save_to"])
            s.eval()
            tied = case["model"] != "v11"
            structure = (s.encoder.embed_tokens.weight is s.shared.weight
                         and (s.lm_head.weight is s.shared.weight) == tied
                         and s.config.feed_forward_proj == m.config.feed_forward_proj
                         and s.config.num_decoder_layers == m.config.num_decoder_layers)
            with torch.no_grad():
                logits = s(input_ids=ids, attention_mask=mask, labels=labels).logits
            err = (logits - sw["logits"].reshape(logits.shape)).abs().max().item() / sw["logits"].abs().max().item()
            print(f"[{os.path.basename(case['save_to'])}] from_pretrained: {s.config.feed_forward_proj}, "
                  f"head {'tied' if s.lm_head.weight is s.shared.weight else 'separate'}, structure "
                  f"{'as saved' if structure else 'WRONG'}; logits rel err {err:.2e}  "
                  f"{'ok' if structure and err <= TOL else 'FAIL'}")
            ok = ok and structure and err <= TOL
    print("PARITY OK" if ok else "PARITY FAILED")
    return 0 if ok else 1


class Custom:
    """Any class: a pickle of it needs its module imported and the class called, so it is refused."""
    def __init__(self):
        self.x = 1


class RunsACommand:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def bad(out):
    torch.manual_seed(0)
    m = T5ForConditionalGeneration(T5Config(**config(tie_word_embeddings=False)))
    root = os.path.join(out, "bad")
    def folder(name):
        path = os.path.join(root, name)
        os.makedirs(path, exist_ok=True)
        m.config.save_pretrained(path)
        return path
    folder("no_weights")
    # A download cut short: the header is intact, the data ends early.
    path = folder("truncated")
    m.save_pretrained(path)
    file = os.path.join(path, "model.safetensors")
    with open(file, "r+b") as f:
        f.truncate(os.path.getsize(file) - 1000)
    state = {k: v for k, v in m.state_dict().items()}
    torch.save({**state, "evil": RunsACommand()}, os.path.join(folder("pickle_os_system"), "pytorch_model.bin"))
    torch.save({**state, "custom": Custom()}, os.path.join(folder("pickle_custom_class"), "pytorch_model.bin"))
    torch.save({**state, "ids": torch.arange(3)}, os.path.join(folder("pickle_int64"), "pytorch_model.bin"))
    torch.save(state, os.path.join(folder("legacy_torch_format"), "pytorch_model.bin"),
               _use_new_zipfile_serialization=False)
    path = folder("other_architecture")
    m.save_pretrained(path)
    cfg = json.load(open(os.path.join(path, "config.json")))
    cfg["model_type"] = "bart"
    json.dump(cfg, open(os.path.join(path, "config.json"), "w"))
    path = folder("missing_shard")
    m.save_pretrained(path, max_shard_size="40KB")
    shards = sorted(f for f in os.listdir(path) if f.startswith("model-"))
    os.remove(os.path.join(path, shards[-1]))


if __name__ == "__main__":
    cmd, out = sys.argv[1], sys.argv[2]
    if cmd == "make":
        make(out)
    elif cmd == "bad":
        bad(out)
    else:
        sys.exit(compare(out))
