#!/usr/bin/env python3
"""Independent numpy computation of Stepwise's bootstrap intervals (docs/DESIGN.md § Verdicts).

Reads a JSON file of cases and prints, per case, the point estimate, the percentile interval and
the standard deviation of the bootstrap distribution. It implements the same distribution as
Sources/Stepwise/Statistics but independently: numpy's generator instead of SplitMix64, example
counts from one bincount over all resamples of a chunk instead of a loop, seed counts from
multinomial draws, and matrix products instead of per-row dot products. Results therefore agree
with Swift only up to Monte-Carlo error.

Input:  {"resamples": B, "confidence": 0.95, "seed": 1, "cases": [
           {"name": ..., "kind": "difference" | "mean", "pairing": "bySeed" | "independent",
            "a": {"seeds": [...], "seedless": false, "ids": [...], "scores": [[per example] per seed]},
            "b": {...}}]}
Output: {"cases": [{"name", "estimate", "lower", "upper", "sd"}]}
"""
import json
import sys

import numpy as np


def arm_table(arm, ids):
    """Rows in ascending seed order, columns in the order of `ids`."""
    column = {i: k for k, i in enumerate(arm["ids"])}
    scores = np.asarray(arm["scores"], dtype=np.float64)[:, [column[i] for i in ids]]
    order = np.argsort(arm["seeds"], kind="stable")
    return np.asarray(arm["seeds"])[order], scores[order]


def rescaled(x):
    """Seed deviations from the per-example mean scaled by sqrt(S/(S-1)) (no-op for one seed)."""
    s = x.shape[0]
    if s < 2:
        return x
    centre = x.mean(axis=0)
    return centre + np.sqrt(s / (s - 1)) * (x - centre)


def terms_of(case):
    a = case["a"]
    ids = sorted(a["ids"], key=lambda i: i.encode("utf-8"))
    seeds_a, xa = arm_table(a, ids)
    if case["kind"] == "mean":
        return [(xa, 1.0)]
    b = case["b"]
    seeds_b, xb = arm_table(b, ids)
    shared = sorted(set(seeds_a.tolist()) & set(seeds_b.tolist()))
    paired = (case["pairing"] == "bySeed" and shared and not a.get("seedless") and not b.get("seedless"))
    if paired:
        rows_a = [int(np.where(seeds_a == s)[0][0]) for s in shared]
        rows_b = [int(np.where(seeds_b == s)[0][0]) for s in shared]
        return [(xa[rows_a] - xb[rows_b], 1.0)]
    return [(xa, 1.0), (xb, -1.0)]


def distribution(terms, resamples, rng, chunk=2000):
    n = terms[0][0].shape[1]
    prepared = [(rescaled(x), sign) for x, sign in terms]
    out = np.empty(resamples)
    for start in range(0, resamples, chunk):
        m = min(chunk, resamples - start)
        draws = rng.integers(0, n, size=(m, n))
        weights = np.bincount((draws + n * np.arange(m)[:, None]).ravel(), minlength=m * n).reshape(m, n)
        total = np.zeros(m)
        for x, sign in prepared:
            s = x.shape[0]
            per_seed = weights @ x.T  # m × S: each seed's weighted sum over the resampled examples
            counts = rng.multinomial(s, np.full(s, 1.0 / s), size=m) if s > 1 else np.ones((m, 1))
            total += sign * (counts * per_seed).sum(axis=1) / (s * n)
        out[start:start + m] = total
    return out


def main():
    spec = json.load(open(sys.argv[1]))
    rng = np.random.default_rng(spec.get("seed", 1))
    tail = (1 - spec["confidence"]) / 2 * 100
    results = []
    for case in spec["cases"]:
        terms = terms_of(case)
        stats = distribution(terms, spec["resamples"], rng)
        lower, upper = np.percentile(stats, [tail, 100 - tail])
        estimate = sum(sign * x.mean() for x, sign in terms)
        results.append({"name": case["name"], "estimate": float(estimate), "lower": float(lower),
                        "upper": float(upper), "sd": float(stats.std(ddof=1))})
    json.dump({"cases": results}, sys.stdout)


if __name__ == "__main__":
    main()
