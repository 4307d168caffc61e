"""`leadflow predict`: train, compare, activate and follow conversion models; score CSV files."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from leadflow.cli_support import console, ensure_database, fail, print_json

app = typer.Typer(help="Predictive scoring: conversion probability learned from outcomes.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
METRIC_LABELS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "log_loss": "log loss", "brier": "Brier score",
                 "ece": "calibration error (ECE)"}


def _service_error(exc) -> None:
    fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}", code=2 if exc.status == 409 else 1)


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_report(version: int, report: dict) -> None:
    how = {"stratified_cv": f"{report.get('folds', 5)}-fold stratified cross-validation (no usable dates)",
           "time_split": "time-ordered split: trained on the older leads, tested on the newer"}.get(
        report.get("evaluation"), str(report.get("evaluation")))
    console.print(f"[bold]version {version}[/]: {report.get('rows', 0):,} leads with an outcome, "
                  f"{report.get('positives', 0):,} converted; evaluated by {how}")
    table = Table("metric", "value")
    for key, label in METRIC_LABELS.items():
        table.add_row(label, _fmt(report.get(key)))
    for key, auc in (report.get("baselines") or {}).items():
        table.add_row(f"baseline: {key.replace('_', ' ')} (ROC AUC)", _fmt(auc))
    table.add_row("training time", f"{report.get('train_seconds', 0):.1f} s")
    console.print(table)
    for name, reason in (report.get("dropped") or {}).items():
        console.print(f"  [yellow]left out[/] {name}: {reason}")


@app.command("train")
def train_cmd(
    csv: Path = typer.Option(None, "--csv", help="Train on this CSV of historical leads instead of the workspace."),
    target: str = typer.Option(None, "--target", help="With --csv: the outcome column (e.g. Converted)."),
    exclude: list[str] = typer.Option([], "--exclude", help="A column to leave out (repeatable); e.g. one sales fills in."),
    insist: list[str] = typer.Option([], "--insist", help="Keep this column even if it looks like a leak (repeatable)."),
    positive: list[str] = typer.Option([], "--positive", help="With --csv: a target label meaning converted (repeatable)."),
    negative: list[str] = typer.Option([], "--negative", help="With --csv: a target label meaning not converted (repeatable)."),
    positive_stage: list[str] = typer.Option([], "--positive-stage", help="Workspace: a stage counted as converted (default customer)."),
    negative_stage: list[str] = typer.Option([], "--negative-stage", help="Workspace: a stage counted as lost (default disqualified)."),
    name: str = typer.Option("", help="A name for the version."),
    notes: str = typer.Option("", help="Why it was trained."),
    seed: int = typer.Option(0, help="Random seed (folds and boosting)."),
    as_json: bool = _JSON,
) -> None:
    """Train a conversion model on the workspace's outcomes (or a CSV) and store it as a draft version."""
    from leadflow.predict.service import PredictServiceError

    ensure_database()
    try:
        if csv is not None:
            version, report = _train_csv(csv, target=target, exclude=exclude, insist=insist, positive=positive,
                                         negative=negative, name=name, notes=notes, seed=seed)
        else:
            if target or positive or negative:
                fail("--target, --positive and --negative go with --csv; the workspace's outcome is its stages")
            version, report = _train_workspace(exclude=exclude, insist=insist, positive_stage=positive_stage,
                                               negative_stage=negative_stage, name=name, notes=notes, seed=seed)
    except PredictServiceError as exc:
        _service_error(exc)
    if as_json:
        print_json({"version": version, "status": "draft", **report})
        return
    _print_report(version, report)
    console.print(f"stored as draft version {version}; compare and activate it with "
                  f"[bold]leadflow predict activate {version}[/]" if csv is None else
                  f"stored as version {version}; score a CSV with [bold]leadflow predict score --csv FILE "
                  f"--model {version}[/]")


def _train_csv(path: Path, *, target: str | None, exclude, insist, positive, negative, name, notes, seed):
    from leadflow.db.session import unit_of_work
    from leadflow.predict.csvdata import read_csv, target_vector
    from leadflow.predict.errors import PredictError
    from leadflow.predict.service import train_csv_model

    if not target:
        fail("--target is required with --csv: the column that says whether each lead converted")
    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        frame = read_csv(path)
        if target not in frame.columns:
            raise PredictError(f"{path.name} has no column {target!r} (columns: {', '.join(frame.columns[:12])}"
                               f"{', …' if len(frame.columns) > 12 else ''})", field=target)
        y = target_vector(frame.get_column(target), positive=positive or None, negative=negative or None)
    except PredictError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
    with unit_of_work() as s:
        row = train_csv_model(s, frame=frame.drop(target), target=y, target_column=target, exclude=exclude,
                              insist=insist, name=name, notes=notes or f"trained on {path.name}", seed=seed)
        return row.version, dict(row.report)


def _train_workspace(*, exclude, insist, positive_stage, negative_stage, name, notes, seed):
    from leadflow.db.session import get_engine, unit_of_work
    from leadflow.lifecycle.stages import STAGE_KEYS
    from leadflow.predict.dataset import (
        DEFAULT_NEGATIVE_STAGES,
        DEFAULT_POSITIVE_STAGES,
        feature_name,
    )
    from leadflow.predict.service import TrainOptions, get_version, train_workspace_model

    for stage in (*positive_stage, *negative_stage):
        if stage not in STAGE_KEYS:
            fail(f"unknown stage {stage!r} (stages: {', '.join(STAGE_KEYS)})")
    options = TrainOptions(positive_stages=tuple(positive_stage) or DEFAULT_POSITIVE_STAGES,
                           negative_stages=tuple(negative_stage) or DEFAULT_NEGATIVE_STAGES,
                           exclude=tuple(feature_name(e) for e in exclude),
                           insist=tuple(feature_name(i) for i in insist), name=name, notes=notes, seed=seed)
    version = train_workspace_model(get_engine(), options=options)
    with unit_of_work() as s:
        return version, dict(get_version(s, version=version).report)  # type: ignore[union-attr]


@app.command("score")
def score_cmd(
    csv: Path = typer.Option(..., "--csv", help="The CSV of leads to score."),
    model: int = typer.Option(..., "--model", help="The model version."),
    out: Path = typer.Option(None, "--out", help="Where to write the scored CSV (default FILE.scored.csv)."),
    as_json: bool = _JSON,
) -> None:
    """Score a CSV: every row with a `conversion_probability` column added."""
    from leadflow.db.session import unit_of_work
    from leadflow.predict.csvdata import read_csv
    from leadflow.predict.errors import PredictError
    from leadflow.predict.service import PredictServiceError, require_version, score_frame

    ensure_database()
    if not csv.is_file():
        fail(f"{csv}: no such file")
    target = out or csv.with_name(csv.stem + ".scored.csv")
    started = time.perf_counter()
    try:
        frame = read_csv(csv)
        with unit_of_work() as s:
            row = require_version(s, version=model)
            p = score_frame(row, frame)
    except PredictError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.message}")
    except PredictServiceError as exc:
        _service_error(exc)
    import polars as pl

    frame.with_columns(pl.Series("conversion_probability", p).round(6)).write_csv(target)
    seconds = time.perf_counter() - started
    summary = {"rows": frame.height, "version": model, "out": str(target), "seconds": round(seconds, 3),
               "mean_probability": float(p.mean()) if len(p) else None}
    if as_json:
        print_json(summary)
    else:
        console.print(f"scored {frame.height:,} rows with version {model} in {seconds:.1f} s → {target}")


@app.command("models")
def models_cmd(as_json: bool = _JSON) -> None:
    """List the predictive model versions (the active one marked)."""
    from leadflow.db.session import unit_of_work
    from leadflow.predict.service import list_versions

    ensure_database()
    with unit_of_work() as s:
        rows = [{"version": r.version, "name": r.name, "status": r.status, "source": r.source,
                 "created_at": r.created_at, "activated_at": r.activated_at,
                 **{k: (r.report or {}).get(k) for k in ("roc_auc", "ece", "evaluation")}} for r in list_versions(s)]
    if as_json:
        print_json(rows)
        return
    table = Table("version", "name", "status", "trained on", "ROC AUC", "ECE", "created")
    for r in rows:
        table.add_row(str(r["version"]), r["name"], "[bold green]active[/]" if r["status"] == "active" else r["status"],
                      r["source"], _fmt(r["roc_auc"]), _fmt(r["ece"]), r["created_at"].strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@app.command("show")
def show_cmd(version: int = typer.Argument(None, help="Version (default: the active one)."), as_json: bool = _JSON) -> None:
    """A version's evaluation: metrics, baselines, lift by decile, reliability, features."""
    from leadflow.db.session import unit_of_work

    ensure_database()
    with unit_of_work() as s:
        row = _row(s, version)
        data = {"version": row.version, "name": row.name, "status": row.status, "source": row.source,
                "options": row.options, "features": row.features, **row.report}
    if as_json:
        print_json(data)
        return
    _print_report(data["version"], data)
    lift = Table("decile", "leads", "converted", "rate", "lift")
    for d in data.get("lift") or []:
        lift.add_row(str(d["decile"]), f"{d['count']:,}", f"{d['positives']:,}", f"{d['rate']:.1%}", f"{d['lift']:.2f}x")
    console.print(lift)


def _row(s, version: int | None):
    from leadflow.predict.service import get_active, get_version

    row = get_active(s) if version is None else get_version(s, version=version)
    if row is None:
        fail("no predictive model is active" if version is None else f"no predictive model version {version}")
    return row


def _print_comparison(cmp: dict) -> None:
    table = Table("metric", f"candidate v{cmp['candidate']}",
                  f"active v{cmp['active']}" if cmp["active"] is not None else "active (none)", "better")
    for m in cmp["metrics"]:
        better = {True: "[green]candidate[/]", False: "[red]active[/]", None: "—"}[m["candidate_better"]]
        table.add_row(METRIC_LABELS[m["metric"]], _fmt(m["candidate"]), _fmt(m["active"]), better)
    console.print(table)


@app.command("compare")
def compare_cmd(version: int = typer.Argument(..., help="The candidate version."), as_json: bool = _JSON) -> None:
    """A candidate's metrics beside the active model's."""
    from leadflow.db.session import unit_of_work
    from leadflow.predict.service import PredictServiceError, compare_versions

    ensure_database()
    try:
        with unit_of_work() as s:
            cmp = compare_versions(s, version=version)
    except PredictServiceError as exc:
        _service_error(exc)
    if as_json:
        print_json(cmp)
    else:
        _print_comparison(cmp)


@app.command("activate")
def activate_cmd(
    version: int = typer.Argument(..., help="The version to make active."),
    yes: bool = typer.Option(False, "--yes", help="Confirm without asking (the comparison is still printed)."),
    as_json: bool = _JSON,
) -> None:
    """Compare VERSION with the active model, confirm, activate it and re-price every lead."""
    from leadflow.db.session import get_engine, unit_of_work
    from leadflow.predict.service import (
        PredictServiceError,
        activate_version,
        compare_versions,
        predict_everyone,
    )

    ensure_database()
    try:
        with unit_of_work() as s:
            cmp = compare_versions(s, version=version)
        if not as_json:
            _print_comparison(cmp)
        if not yes and not typer.confirm(f"activate version {version} and re-price every lead?"):
            fail("not activated", code=2)
        with unit_of_work() as s:
            activate_version(s, version=version, compared=True)
    except PredictServiceError as exc:
        _service_error(exc)
    started = time.perf_counter()
    count = predict_everyone(get_engine())
    seconds = time.perf_counter() - started
    if as_json:
        print_json({"version": version, "status": "active", "leads": count, "seconds": round(seconds, 3),
                    "comparison": cmp})
    else:
        console.print(f"version {version} is active; {count:,} leads priced in {seconds:.1f} s")


@app.command("rescore")
def rescore_cmd(as_json: bool = _JSON) -> None:
    """Re-price every lead with the active model (e.g. nightly, as events age)."""
    from leadflow.db.session import get_engine
    from leadflow.predict.service import predict_everyone

    ensure_database()
    started = time.perf_counter()
    count = predict_everyone(get_engine())
    seconds = time.perf_counter() - started
    if as_json:
        print_json({"leads": count, "seconds": round(seconds, 3)})
    else:
        console.print(f"{count:,} leads priced in {seconds:.1f} s" if count else "no predictive model is active")


@app.command("explain")
def explain_cmd(lead_id: int = typer.Argument(..., help="Lead id."),
                version: int = typer.Option(None, "--version", help="Model version (default: the active one)."),
                as_json: bool = _JSON) -> None:
    """A lead's conversion probability and the factors that raised or lowered it."""
    from leadflow.db.session import unit_of_work
    from leadflow.leads.models import Lead
    from leadflow.predict.service import PredictServiceError, explain_lead

    ensure_database()
    try:
        with unit_of_work() as s:
            if s.get(Lead, lead_id) is None:
                fail(f"no lead {lead_id}")
            p = explain_lead(s, lead_id=lead_id, version=version)
    except PredictServiceError as exc:
        _service_error(exc)
    if p is None:
        fail("no predictive model is active (train one with leadflow predict train)")
    if as_json:
        print_json({"lead_id": p.lead_id, "version": p.version, "probability": p.probability, "factors": p.factors})
        return
    console.print(f"lead {lead_id}: [bold]{p.probability:.1%}[/] chance of becoming a customer (model v{p.version})")
    for f in p.factors:
        colour = "green" if f["contribution"] > 0 else "red"
        console.print(f"  [{colour}]{f['contribution']:+.2f}[/] {f['text']}")


@app.command("drift")
def drift_cmd(version: int = typer.Option(None, "--version", help="Model version (default: the active one)."),
              period: str = typer.Option("month", help="week, month or quarter."), as_json: bool = _JSON) -> None:
    """How the model ranks and calibrates the outcomes of each period since it was trained."""
    from leadflow.db.session import get_engine
    from leadflow.predict.service import PredictServiceError, drift_report

    ensure_database()
    try:
        report = drift_report(get_engine(), version=version, period=period)
    except PredictServiceError as exc:
        _service_error(exc)
    if as_json:
        print_json(report)
        return
    table = Table("period", "outcomes", "converted", "predicted", "observed", "ROC AUC", "ECE", "")
    for p in report["periods"]:
        table.add_row(p["period"], f"{p['outcomes']:,}", f"{p['converted']:,}", f"{p['mean_predicted']:.1%}",
                      f"{p['observed']:.1%}", _fmt(p["roc_auc"]), _fmt(p["ece"]),
                      "in sample" if p["in_sample"] else (f"[red]{p['warning']}[/]" if p["warning"] else "ok"))
    console.print(f"version {report['version']}, trained {report['trained_at']}; evaluation AUC "
                  f"{_fmt(report['evaluation']['roc_auc'])}, ECE {_fmt(report['evaluation']['ece'])}")
    console.print(table)


@app.command("recalibrate")
def recalibrate_cmd(version: int = typer.Option(None, "--version", help="Model version (default: the active one)."),
                    days: int = typer.Option(180, min=1, help="Use the outcomes of the last DAYS days."),
                    as_json: bool = _JSON) -> None:
    """Refit the calibration of a model on recent outcomes, as a new draft version."""
    from leadflow.db.session import get_engine, unit_of_work
    from leadflow.predict.service import PredictServiceError, get_version, recalibrate

    ensure_database()
    try:
        new = recalibrate(get_engine(), version=version, days=days)
    except PredictServiceError as exc:
        _service_error(exc)
    with unit_of_work() as s:
        info = get_version(s, version=new).report.get("recalibration", {})  # type: ignore[union-attr]
    if as_json:
        print_json({"version": new, "status": "draft", "recalibration": info})
        return
    console.print(f"version {new}: recalibrated on {info.get('outcomes', 0):,} outcomes of the last {days} days; "
                  f"ECE {_fmt(info['before']['ece'])} → {_fmt(info['after']['ece'])} (in sample); "
                  f"activate it with [bold]leadflow predict activate {new}[/]")
