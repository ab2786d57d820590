"""Drift against a stored reference (profile + sorted sample) vs plain per-feature scipy.

    uv run python bench/drift.py [--rows 100000 1000000] [--runs 3]

The reference (200k rows) is profiled once, as training does; timing covers only
`detect_drift` on the current frame. The baseline runs `scipy.stats.ks_2samp` per numeric
feature between the full reference and the current data (and chi-square contingency tests
for the categoricals). Half of the numeric features and one categorical are shifted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import polars as pl
from scipy import stats

from core.stats.drift import detect_drift, ks_pvalue, merge_ks_wasserstein
from core.training.profile import build_profile, reference_sample

N_NUM, N_CAT, REF_ROWS = 20, 3, 200_000


def make(rows: int, seed: int, shifted: bool) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for j in range(N_NUM):
        shift = 0.5 if shifted and j % 2 == 0 else 0.0
        cols[f"x{j}"] = rng.normal(shift, 1.0 + 0.1 * j, rows)
    for j in range(N_CAT):
        p = [0.4, 0.3, 0.2, 0.1]
        if shifted and j == 0:
            p = [0.2, 0.3, 0.2, 0.3]
        cols[f"c{j}"] = rng.choice(np.array(["a", "b", "c", "d"]), size=rows, p=p)
    return pl.DataFrame(cols)


def median_time(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    ref = make(REF_ROWS, 0, shifted=False)
    types = {c: ("numeric" if c.startswith("x") else "categorical") for c in ref.columns}
    numeric = [c for c in ref.columns if c.startswith("x")]
    t0 = time.perf_counter()
    profile = build_profile(ref, types)
    samples = reference_sample(ref, numeric)
    print(f"reference: {REF_ROWS:,} rows, profiled once in {time.perf_counter() - t0:.2f} s")
    ref_np = {c: ref[c].to_numpy() for c in numeric}
    detect_drift(profile, samples, make(1000, 9, False))  # warm imports

    for rows in args.rows:
        cur = make(rows, 1, shifted=True)
        ours_s, ours = median_time(lambda cur=cur: detect_drift(profile, samples, cur), args.runs)

        def baseline(cur=cur):
            out = {}
            for c in numeric:
                out[c] = stats.ks_2samp(ref_np[c], cur[c].to_numpy()).pvalue < 0.05
            for c in types:
                if c.startswith("c"):
                    r = ref[c].value_counts().sort(c)["count"].to_numpy()
                    k = cur[c].value_counts().sort(c)["count"].to_numpy()
                    out[c] = stats.chi2_contingency(np.vstack([r, k]))[1] < 0.05
            return out

        base_s, base = median_time(baseline, args.runs)
        verdicts = {f.feature: f.drifted for f in ours.features}
        agree = sum(verdicts[c] == base[c] for c in base)
        print(
            f"{rows:>9,} x {N_NUM} numeric + {N_CAT} categorical: detect_drift {ours_s:.3f} s "
            f"(Wasserstein/JS vs the 5,000-value sample) | scipy ks_2samp + chi2 per feature "
            f"{base_s:.3f} s | {base_s / ours_s:.1f}x | verdicts agree on {agree}/{len(base)}"
        )
        # Same KS test through the one-merge kernel (vs the stored sample) and via scipy.
        cur_sorted = {c: np.sort(cur[c].to_numpy()) for c in numeric}
        sample_np = {c: np.asarray(samples[c]) for c in numeric}

        def ks_merge(sample_np=sample_np, cur_sorted=cur_sorted, rows=rows):
            return {
                c: ks_pvalue(merge_ks_wasserstein(sample_np[c], cur_sorted[c])[0], 5000, rows)
                for c in numeric
            }

        def ks_scipy(sample_np=sample_np, cur=cur):
            return {c: stats.ks_2samp(sample_np[c], cur[c].to_numpy()) for c in numeric}

        m_s, m = median_time(ks_merge, args.runs)
        s_s, s = median_time(ks_scipy, args.runs)
        same = all(
            m[c][0] == s[c].statistic and np.isclose(m[c][1], s[c].pvalue, rtol=1e-9, atol=0)
            for c in numeric
        )
        print(
            f"{'':>9}   KS vs the sample on pre-sorted current: merge {m_s:.3f} s | scipy "
            f"{s_s:.3f} s | statistic and p-value identical: {same}"
        )


if __name__ == "__main__":
    main()
