"""SentencePiece tokenizer parity: the oracle side of Tests/TrainerTests/SentencePieceParityTests.swift.

  make DIR      trains small unigram models with the `sentencepiece` package on a generated corpus,
                saves each as spiece.model plus the tokenizer.json transformers' T5TokenizerFast
                makes of it, generates the test strings, and writes every reference's ids/decodes.
  check DIR     opens the folders the Swift tokenizer saved with AutoTokenizer and compares its ids
                with the ids Swift wrote next to them.
  bench DIR     times the sentencepiece library encoding the test strings (for the benchmark note).
"""
import json, os, random, sys, time

MODELS = {
    # name: trainer options on top of the common ones
    "t5like": dict(byte_fallback=False),
    "bytefallback": dict(byte_fallback=True, user_defined_symbols=["[label]", "[rationale]", "explain:"]),
    "userdefined": dict(byte_fallback=False, user_defined_symbols=["[label]", "[rationale]", "<sep>"]),
}

NAMES = ["John", "Mary", "Ana", "Zoë", "José", "Mei", "Ivan", "Chloé", "Olu", "Søren"]
ITEMS = ["apples", "oranges", "marbles", "books", "pencils", "cookies", "stickers", "coins", "cafés", "crêpes"]
VERBS = ["bought", "sold", "gave away", "found", "lost", "baked", "collected", "ate"]
SUBJECTS = ["A man", "The children", "A woman in a red coat", "Two dogs", "A group of tourists", "The chef", "A cyclist"]
ACTIONS = ["is playing", "are running", "is cooking", "sits", "is reading a book", "rides a bike", "are sleeping"]
PLACES = ["in the park", "on the beach", "at a café", "near the station", "inside a museum", "under a bridge"]
UNICODE_WORDS = ["café", "naïve", "Ångström", "über", "façade", "résumé", "e\u0301", "a\u0308", "n\u0303o",
                 "Ａ\u0301", "ＡＢＣ", "１２３", "！？", "ｶﾀｶﾅ", "東京", "日本語", "中文字符", "한국어", "😀", "👍🏽",
                 "👨\u200d👩\u200d👧", "Привет", "Ελληνικά", "ﬁne", "①", "™", "½", "℃", "…", "—", "«»", "ß",
                 "İstanbul", "\u200b", "x\u00adz", "ｈｅｌｌｏ", "㍻", "ℌ", "Ⅻ", "ﾞ", "\ufeff", "ǅ"]
SPACES = [" ", "  ", "   ", "\t", "\n", " \n ", "\u3000", "\u00a0", "\r\n", " \t  "]
PREFIXES = ["[label] ", "[rationale] ", "explain: ", "question: ", "premise: ", "hypothesis: ", "nli ", "[label]", ""]


def word_problem(r):
    a, b = r.randint(1, 999), r.randint(1, 99)
    n, m = r.choice(NAMES), r.choice(NAMES)
    it = r.choice(ITEMS)
    forms = [
        f"{n} had {a} {it}. {n} {r.choice(VERBS)} {b} {it}. How many {it} does {n} have now?",
        f"There are {a} {it} in {r.randint(2, 12)} boxes. Each box has the same number. How many {it} are in each box?",
        f"{n} has {a} {it} and {m} has {b} more than {n}. How many do they have together? The answer is {a + a + b}.",
        f"If {n} earns ${a}.{r.randint(0, 99):02d} per hour, how much does {n} earn in {b} hours?",
        f"{a} - {b} = {a - b}; {a} + {b} = {a + b}; {a} * {b} = {a * b}; {a}/{b} ≈ {a / b:.3f}",
        f"{n} read {r.randint(10, 90)}% of a {a:,}-page book.",
    ]
    return r.choice(forms)


def nli(r):
    p = f"{r.choice(SUBJECTS)} {r.choice(ACTIONS)} {r.choice(PLACES)}."
    h = f"{r.choice(SUBJECTS)} {r.choice(ACTIONS)}."
    forms = [f"premise: {p} hypothesis: {h}", f"{p} [SEP] {h}", f"[label] {p} {h}", f"[rationale] {p}\n{h}",
             f"explain: {p} hypothesis: {h}", f"mnli hypothesis: {h} premise: {p}"]
    return r.choice(forms)


def unicode_text(r):
    words = [r.choice(UNICODE_WORDS + ITEMS + NAMES) for _ in range(r.randint(1, 8))]
    return " ".join(words)


def whitespace_text(r):
    parts = [r.choice(NAMES + ITEMS + UNICODE_WORDS[:10] + [str(r.randint(0, 9999))]) for _ in range(r.randint(1, 6))]
    s = r.choice(SPACES + [""])
    for p in parts:
        s += p + r.choice(SPACES)
    return s


def digits_text(r):
    forms = [str(r.randint(0, 10 ** r.randint(1, 15))), f"{r.randint(0, 9999)}.{r.randint(0, 999)}",
             f"{r.randint(1, 999):,}", f"${r.randint(1, 99)}.{r.randint(0, 99):02d}", f"{r.randint(1, 9)}/{r.randint(2, 9)}",
             f"-{r.randint(1, 500)}", f"{r.randint(1, 31)}/{r.randint(1, 12)}/{r.randint(1990, 2030)}",
             " ".join(str(r.randint(0, 9)) for _ in range(r.randint(2, 12)))]
    return r.choice(forms)


def random_chars(r):
    pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()[]{}<>/\\|@#$%^&*-_=+~`▁" \
           "éèêëàâäôöûüçñÉÀßøåæœ東京日本한국😀👍\u0301\u0308\u3000\t\nＡＢＣ１２３ｶﾀｶﾅ①½™…—«»"
    return "".join(r.choice(pool) for _ in range(r.randint(0, 30)))


GENERATORS = [word_problem, word_problem, nli, nli, unicode_text, whitespace_text, digits_text, random_chars]


def strings(seed, count):
    r = random.Random(seed)
    out = []
    for _ in range(count):
        s = r.choice(GENERATORS)(r)
        if r.random() < 0.25:
            s = r.choice(PREFIXES) + s
        out.append(s)
    return out


def t5_only_strings(seed):
    """Strings with T5's special tokens and sentinels (sentencepiece itself does not know them)."""
    r = random.Random(seed)
    out = ["<extra_id_0>", "</s>", "<pad>", "<unk>", "a<extra_id_99>b", "The <extra_id_0> walks in <extra_id_1> park",
           "x </s> y", "<extra_id_5><extra_id_6>", " <extra_id_3> ", "a\u3000[SEP]\u3000b", "x\u00a0 [SEP]\ty",
           "[SEP]", "  [SEP]  ", "ｃａｆé café cafés", "Mary, Mary's Marys", "éing ing ingé"]
    for _ in range(300):
        parts = [r.choice(GENERATORS)(r) for _ in range(2)]
        out.append(f"{parts[0]} <extra_id_{r.randint(0, 99)}> {parts[1]}" if r.random() < 0.8 else f"{parts[0]}</s>{parts[1]}")
    return out


def write_variant(md, texts):
    """Another tokenizer.json layout transformers has written for sentencepiece models (its
    non-legacy one): normalizer Precompiled + Strip(right) + Replace(regex " {2,}" -> "▁"),
    pre-tokenizer Metaspace(prepend first, no split). Returns the `tokenizers` library's ids."""
    from tokenizers import Tokenizer
    j = json.load(open(os.path.join(md, "fast", "tokenizer.json")))
    j["normalizer"] = {"type": "Sequence", "normalizers": [
        j["normalizer"],
        {"type": "Strip", "strip_left": False, "strip_right": True},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"}]}
    j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    # Added tokens with the other flags: matched after normalization, eating the spaces around
    # them, only as a whole word.
    n = max(t["id"] for t in j["added_tokens"]) + 1
    def added(i, content, **flags):
        t = {"id": n + i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": False}
        t.update(flags)
        return t
    j["added_tokens"] += [added(0, "ｃａｆé", normalized=True), added(1, "[SEP]", lstrip=True, rstrip=True),
                          added(2, "Mary", single_word=True), added(3, "ing", single_word=True)]
    os.makedirs(os.path.join(md, "variant"), exist_ok=True)
    path = os.path.join(md, "variant", "tokenizer.json")
    json.dump(j, open(path, "w"))
    tok = Tokenizer.from_file(path)
    return [tok.encode(s).ids for s in texts]


def make(d):
    import sentencepiece as spm
    from transformers import T5TokenizerFast
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "corpus.txt"), "w") as f:
        f.write("\n".join(s.replace("\n", " ") for s in strings(1, 6000)))
    tests = strings(2, 10000) + ["", " ", "   ", "\t\n", "a", "▁", "▁▁a", "[label]", "[label][rationale]", "explain:"]
    t5_only = t5_only_strings(3)
    json.dump({"strings": tests, "t5_only": t5_only}, open(os.path.join(d, "strings.json"), "w"))
    for name, options in MODELS.items():
        md = os.path.join(d, name)
        os.makedirs(md, exist_ok=True)
        spm.SentencePieceTrainer.train(input=os.path.join(d, "corpus.txt"), model_prefix=os.path.join(md, "spiece"),
                                       model_type="unigram", vocab_size=700, hard_vocab_limit=False,
                                       normalization_rule_name="nmt_nfkc", character_coverage=0.995,
                                       pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2, num_threads=2,
                                       **options)
        os.remove(os.path.join(md, "spiece.vocab"))
        sp = spm.SentencePieceProcessor(model_file=os.path.join(md, "spiece.model"))
        sp_ids = [sp.encode(s) for s in tests]
        fast = T5TokenizerFast.from_pretrained(md)
        fast.save_pretrained(os.path.join(md, "fast"))          # tokenizer.json + tokenizer_config.json
        assert not os.path.exists(os.path.join(md, "fast", "spiece.model"))
        variant_ids = write_variant(md, tests + t5_only)
        json.dump({
            "variant_ids": variant_ids,
            "sp_ids": sp_ids,
            "sp_decoded": [sp.decode(ids) for ids in sp_ids],
            "fast_ids": [fast(s).input_ids for s in tests],
            "fast_t5_only_ids": [fast(s).input_ids for s in t5_only],
            "fast_vocab_size": len(fast),
            "sp_piece_size": sp.get_piece_size(),
        }, open(os.path.join(md, "expected.json"), "w"))
    # A BPE model, which the Swift tokenizer must refuse with a clear error.
    os.makedirs(os.path.join(d, "bpe"), exist_ok=True)
    spm.SentencePieceTrainer.train(input=os.path.join(d, "corpus.txt"), model_prefix=os.path.join(d, "bpe", "spiece"),
                                   model_type="bpe", vocab_size=700, hard_vocab_limit=False, minloglevel=2, num_threads=2)
    print(f"made {len(MODELS)} models, {len(tests)} strings + {len(t5_only)} with T5 special tokens in {d}")


def check(d):
    from transformers import AutoTokenizer
    data = json.load(open(os.path.join(d, "strings.json")))
    failures = 0
    for saved in sorted(os.listdir(d)):
        folder = os.path.join(d, saved)
        ids_file = os.path.join(folder, "swift_ids.json")
        if not os.path.isfile(ids_file):
            continue
        swift = json.load(open(ids_file))
        tok = AutoTokenizer.from_pretrained(folder)
        texts = data["strings"] + data["t5_only"]
        bad = [(s, tok(s).input_ids, w) for s, w in zip(texts, swift["ids"]) if tok(s).input_ids != w]
        size_ok = len(tok) == swift["vocabulary_size"]
        print(f"{saved}: {type(tok).__name__}, len {len(tok)} (swift {swift['vocabulary_size']}), "
              f"{len(texts) - len(bad)}/{len(texts)} strings give the same ids")
        for s, a, b in bad[:5]:
            print(f"  {s!r}\n    AutoTokenizer {a}\n    swift         {b}")
        failures += len(bad) + (0 if size_ok else 1)
    sys.exit(1 if failures else 0)


def bench(d):
    import sentencepiece as spm
    data = json.load(open(os.path.join(d, "strings.json")))["strings"]
    sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "t5like", "spiece.model"))
    t = time.perf_counter()
    n = sum(len(sp.encode(s)) for s in data)
    print(f"sentencepiece: {n} tokens in {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    {"make": make, "check": check, "bench": bench}[sys.argv[1]](sys.argv[2])
