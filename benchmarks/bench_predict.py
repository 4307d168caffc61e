"""Predictive scoring benchmark on the X Education leads: out-of-fold quality, baselines, speed.

    python benchmarks/bench_predict.py                  # the shared X Education file, seed 0
    python benchmarks/bench_predict.py --csv PATH --json
    python benchmarks/bench_predict.py --repeats 5      # also the spread over CV seeds 1-4

Reads the file where it lies (never copied), leaves out the eight columns sales fill after
contact, runs leadflow.predict.training.train_model (5-fold stratified cross-validation with
the calibration fitted inside each training fold, both baselines on the same folds, then the
final model on every row), and times batch scoring of the file tiled to at least 200,000 rows,
feature encoding included. The markdown it prints is also written to /tmp/predict_bench.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import lightgbm
import numpy as np
import polars as pl
import sklearn

from leadflow.predict.csvdata import read_csv, split_target
from leadflow.predict.metrics import ece
from leadflow.predict.training import train_model

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE.parents[1] / "shared" / "data" / "x_education_leads.csv"
OUT = Path("/tmp/predict_bench.md")
TARGET = "Converted"
# Filled in by sales after contact: they describe the outcome rather than predict it.
AFTER_CONTACT = ("Tags", "Lead Quality", "Lead Profile", "Last Notable Activity", "Asymmetrique Activity Index",
                 "Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score")
FOLDS = 5
SEED = 0  # the hyperparameters were chosen on seeds 11-13; seed 0 was never looked at while tuning
SCORING_ROWS = 200_000
EXPLAIN_ROWS = 20_000
TIMING_RUNS = 3  # best of, after one warm-up
# Outcome draws for the ECE a perfectly calibrated model would show on this many leads.
NOISE_DRAWS = 200
TARGETS = {"roc_auc": 0.905, "ece": 0.01, "train_seconds": 30.0, "leads_per_second": 50_000.0}


def _best_time(fn, runs: int = TIMING_RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _noise_floor(probability: np.ndarray) -> tuple[float, float]:
    # Outcomes drawn from the probabilities themselves: calibrated by construction, so any ECE
    # left is the sampling noise of 10 bins on this many leads.
    rng = np.random.default_rng(SEED)
    draws = [ece((rng.random(len(probability)) < probability).astype(np.int8), probability) for _ in range(NOISE_DRAWS)]
    return statistics.fmean(draws), float(np.quantile(draws, 0.9))


def run(csv: Path, *, repeats: int) -> dict:
    """Every figure of the benchmark as a JSON-ready dict."""
    frame, y = split_target(read_csv(csv), target=TARGET)
    started = time.perf_counter()
    result = train_model(frame, y, exclude=AFTER_CONTACT, seed=SEED, folds=FOLDS)
    total_seconds = time.perf_counter() - started
    report, model = result.report, result.model
    floor_mean, floor_p90 = _noise_floor(result.probability)

    tiles = math.ceil(SCORING_ROWS / frame.height)
    big = pl.concat([frame] * tiles)
    scoring_seconds = _best_time(lambda: model.predict(big))
    sample = big.head(EXPLAIN_ROWS)
    explain_seconds = _best_time(lambda: model.explain(sample))

    spread = {}
    if repeats > 1:
        runs = [report] + [train_model(frame, y, exclude=AFTER_CONTACT, seed=s, folds=FOLDS, baselines=False).report
                           for s in range(1, repeats)]
        for key in ("roc_auc", "ece"):
            values = [r[key] for r in runs]
            spread[key] = {"seeds": list(range(repeats)), "values": values, "mean": statistics.fmean(values),
                           "min": min(values), "max": max(values)}
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "lightgbm": lightgbm.__version__, "scikit_learn": sklearn.__version__, "polars": pl.__version__,
                    "numpy": np.__version__},
        "data": {"file": csv.name, "rows": report["rows"], "positives": report["positives"],
                 "features": len(model.features), "excluded": list(AFTER_CONTACT)},
        "evaluation": report["evaluation"], "folds": report["folds"], "seed": SEED,
        "roc_auc": report["roc_auc"], "pr_auc": report["pr_auc"], "log_loss": report["log_loss"],
        "brier": report["brier"], "ece": report["ece"], "ece_noise_floor": {"mean": floor_mean, "p90": floor_p90},
        "top_decile_lift": report["lift"][0]["lift"],
        "baselines": report["baselines"],
        "train_seconds": report["train_seconds"], "train_model_seconds": total_seconds,
        "scoring": {"rows": big.height, "seconds": scoring_seconds, "leads_per_second": big.height / scoring_seconds},
        "explain": {"rows": sample.height, "seconds": explain_seconds,
                    "leads_per_second": sample.height / explain_seconds},
        "calibration": report["calibration"], "params": report["params"], "spread": spread,
    }


def markdown(r: dict) -> str:
    """The figures as the section pasted into docs/benchmarks.md."""
    m = r["machine"]
    ok = {
        "roc_auc": r["roc_auc"] >= TARGETS["roc_auc"], "ece": r["ece"] <= TARGETS["ece"],
        "train": r["train_seconds"] <= TARGETS["train_seconds"],
        "scoring": r["scoring"]["leads_per_second"] >= TARGETS["leads_per_second"],
    }
    mark = {True: "met", False: "**missed**"}
    floor = r["ece_noise_floor"]
    lines = [
        "### Predictive scoring",
        "",
        f"`python benchmarks/bench_predict.py` on {r['date'][:10]}: {m['cpus']} vCPU ({m['platform']}), "
        f"Python {m['python']}, LightGBM {m['lightgbm']}, scikit-learn {m['scikit_learn']}, Polars {m['polars']}.",
        f"X Education leads ({r['data']['rows']:,} rows, {r['data']['positives']:,} converted) without the "
        f"{len(r['data']['excluded'])} columns sales fill after contact; {r['data']['features']} columns used. "
        f"{r['folds']}-fold stratified cross-validation (seed {r['seed']}); the Platt calibration of each fold is "
        "fitted on out-of-fold margins of that fold's training rows only. Hyperparameters were chosen on "
        "seeds 11-13; the reported seed was run once before the last change (700 trees at half the rate, "
        "ROC AUC 0.9068, ECE 0.0062), which was made for scoring speed on seeds 11-13.",
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
        f"| ROC AUC, out of fold | {r['roc_auc']:.4f} | ≥ {TARGETS['roc_auc']} ({mark[ok['roc_auc']]}) |",
        f"| PR AUC | {r['pr_auc']:.4f} | |",
        f"| log loss | {r['log_loss']:.4f} | |",
        f"| Brier score | {r['brier']:.4f} | |",
        f"| ECE, 10 equal-width bins | {r['ece']:.4f} | ≤ {TARGETS['ece']} ({mark[ok['ece']]}) |",
        f"| ECE of perfectly calibrated probabilities on as many leads (sampling noise: mean, 90th pct) | "
        f"{floor['mean']:.4f}, {floor['p90']:.4f} | |",
        f"| lift of the top decile | {r['top_decile_lift']:.2f} | |",
        f"| baseline: one-hot logistic regression, ROC AUC | {r['baselines']['logistic_regression']:.4f} | |",
        f"| baseline: frequency naive Bayes (Odoo-style), ROC AUC | {r['baselines']['naive_bayes']:.4f} | |",
        f"| training the final model on all rows, calibration included | {r['train_seconds']:.1f} s | "
        f"≤ {TARGETS['train_seconds']:.0f} s ({mark[ok['train']]}) |",
        f"| whole `train_model` run (CV with nested calibration, baselines, final model) | "
        f"{r['train_model_seconds']:.1f} s | |",
        f"| batch scoring, {r['scoring']['rows']:,} leads, encoding included | "
        f"{r['scoring']['leads_per_second']:,.0f} leads/s | ≥ {TARGETS['leads_per_second']:,.0f} ({mark[ok['scoring']]}) |",
        f"| explanations (exact per-column contributions), {r['explain']['rows']:,} leads | "
        f"{r['explain']['leads_per_second']:,.0f} leads/s | |",
    ]
    if r["spread"]:
        auc, e = r["spread"]["roc_auc"], r["spread"]["ece"]
        lines += [
            "",
            f"Over CV seeds {auc['seeds'][0]}-{auc['seeds'][-1]}: ROC AUC {auc['min']:.4f}-{auc['max']:.4f} "
            f"(mean {auc['mean']:.4f}), ECE {e['min']:.4f}-{e['max']:.4f} (mean {e['mean']:.4f}).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="the X Education leads file")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of markdown")
    parser.add_argument("--repeats", type=int, default=1, help="also run the CV with seeds 1..N-1 (no baselines)")
    args = parser.parse_args(argv)
    if not args.csv.exists():
        print(f"no such file: {args.csv}", file=sys.stderr)
        return 2
    figures = run(args.csv, repeats=args.repeats)
    text = markdown(figures)
    OUT.write_text(text, encoding="utf-8")
    print(json.dumps(figures, indent=2) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
