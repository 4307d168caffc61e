"""CSV import end to end on the real test database (SQLite, or PostgreSQL with LEADFLOW_TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.config import get_settings
from leadflow.leads.importing import ImportFailed, ImportInterrupted, import_csv, preview_csv
from leadflow.leads.models import Company, Event, ImportRejection, Lead, LeadImport
from leadflow.lifecycle.models import StageChange
from tests.conftest import X_EDUCATION_CSV

DATA = Path(__file__).parent / "data"


def _write(path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def _count(engine: Engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def _leads(engine: Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(Lead)).mappings().all()
    return {r["email"] or r["external_id"]: dict(r) for r in rows}


@pytest.mark.parametrize("name", ["spanish_semicolon.csv", "spanish_latin1.csv"])
def test_spanish_headers_semicolons_and_latin1(engine_clean: Engine, name: str) -> None:
    preview = preview_csv(DATA / name)
    assert preview.delimiter == ";"
    assert preview.encoding == ("utf-8" if "semicolon" in name else "cp1252")
    assert preview.mapping["País"] == "country" and preview.mapping["Compañía"] == "company_name"
    result = import_csv(DATA / name)
    assert (result.created, result.rejected, result.status) == (2, 0, "done")
    ana = _leads(engine_clean)["ana@acme.es"]
    assert (ana["first_name"], ana["last_name"], ana["country"], ana["phone"]) == ("Ana", "García", "ES", "+34612345678")
    assert ana["outcome"] == "won" and ana["stage"] == "customer" and ana["converted_at"] is not None
    assert _props(ana) == {"Color favorito": "azul"}
    luis = _leads(engine_clean)["luis@acme.es"]
    assert luis["outcome"] == "lost" and luis["stage"] == "prospect"
    with engine_clean.connect() as conn:
        company = conn.execute(select(Company)).mappings().one()
        stages = conn.execute(select(StageChange.lead_id, StageChange.from_stage, StageChange.to_stage)
                              .order_by(StageChange.id)).all()
    assert company["domain"] == "acme.es" and ana["company_id"] == company["id"] == luis["company_id"]
    assert stages == [(ana["id"], None, "prospect"), (luis["id"], None, "prospect"),
                      (ana["id"], "prospect", "customer")]


def _props(lead: dict) -> dict:
    props = lead["properties"]
    return json.loads(props) if isinstance(props, str) else props


def test_utf8_bom_and_tabs(engine_clean: Engine) -> None:
    preview = preview_csv(DATA / "bom_tab.csv")
    assert (preview.encoding, preview.delimiter, preview.headers[0]) == ("utf-8-sig", "\t", "Email Address")
    import_csv(DATA / "bom_tab.csv")
    jo = _leads(engine_clean)["jo@example.org"]
    assert (jo["job_title"], jo["company_name"], jo["country"]) == ("CTO", "Example Inc", "US")


def test_map_override_ignore_and_bad_field(engine_clean: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "m.csv", [["Contacto", "Notas", "Region"], ["x@corp.io", "call back", "north"]])
    assert preview_csv(path).identifier is None
    with pytest.raises(ImportFailed, match="valid fields are: email"):
        import_csv(path, overrides={"Contacto": "mail"})
    result = import_csv(path, overrides={"Contacto": "email", "Region": "-"})
    assert result.created == 1
    assert _props(_leads(engine_clean)["x@corp.io"]) == {"Notas": "call back"}


def test_duplicates_in_file_are_merged(engine_clean: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", [
        ["Email", "First Name", "utm_source", "Job Title"],
        ["Kim@Corp.io", "Kim", "google", "Analyst"],
        ["kim@corp.io", "Kimberly", "linkedin", ""],
        ["lee@corp.io", "Lee", "", ""],
    ])
    result = import_csv(path)
    assert (result.created, result.duplicates) == (2, 1)
    kim = _leads(engine_clean)["kim@corp.io"]
    # set fields take the later non-empty value, set-once fields the first.
    assert (kim["first_name"], kim["job_title"]) == ("Kimberly", "Analyst")
    assert (kim["first_source"], kim["last_source"]) == ("google", "linkedin")


def test_reimport_creates_no_duplicates_and_records_changes(engine_clean: Engine, tmp_path: Path) -> None:
    rows = [["Email", "First Name", "Job Title", "Plan"], ["a@corp.io", "Ann", "CTO", "basic"],
            ["b@corp.io", "Bob", "CEO", "pro"]]
    first = import_csv(_write(tmp_path / "r.csv", rows))
    again = import_csv(_write(tmp_path / "r.csv", rows))
    assert (first.created, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert _count(engine_clean, Lead) == 2 and _count(engine_clean, Event) == 0
    rows[1][2:] = ["VP Engineering", "enterprise"]
    third = import_csv(_write(tmp_path / "r.csv", rows))
    assert (third.updated, third.unchanged) == (1, 1)
    with engine_clean.connect() as conn:
        event = conn.execute(select(Event)).mappings().one()
    props = event["properties"] if isinstance(event["properties"], dict) else json.loads(event["properties"])
    assert (event["type"], event["source"]) == ("property_change", "import")
    assert props == {"import_id": third.import_id, "changes": [
        {"field": "job_title", "from": "CTO", "to": "VP Engineering"},
        {"field": "properties.Plan", "from": "basic", "to": "enterprise"},
    ]}
    a = _leads(engine_clean)["a@corp.io"]
    assert a["job_title"] == "VP Engineering" and _props(a) == {"Plan": "enterprise"}


def test_bad_rows_rejected_with_row_and_column_good_rows_kept(engine_clean: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "b.csv", [
        ["E-mail", "First Name", "Country", "Phone"],
        ["ok@corp.io", "Ok", "Narnia", "12"],
        ["not-an-email", "Bad", "ES", ""],
        ["spam@corp.io", "<a href=x>win</a>", "", ""],
        ["", "Nobody", "", ""],
    ])
    report = tmp_path / "report.csv"
    result = import_csv(path, report_path=report)
    assert (result.created, result.rejected, result.warnings) == (1, 3, 2)
    assert result.report_path == str(report)
    with report.open(encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    errors = {(r["row"], r["column"]) for r in lines if r["severity"] == "error"}
    assert errors == {("3", "E-mail"), ("4", "First Name"), ("5", "E-mail")}
    assert {(r["row"], r["column"]) for r in lines if r["severity"] == "warning"} == {("2", "Country"), ("2", "Phone")}
    ok = _leads(engine_clean)["ok@corp.io"]
    assert ok["country"] is None and _props(ok) == {"country_raw": "Narnia", "phone_raw": "12"}
    with engine_clean.connect() as conn:
        stored = conn.execute(select(ImportRejection.row_number, ImportRejection.column, ImportRejection.raw)
                              .where(ImportRejection.severity == "error").order_by(ImportRejection.row_number)).all()
    assert [(r[0], r[1]) for r in stored] == [(3, "E-mail"), (4, "First Name"), (5, "E-mail")]
    raw = stored[0][2] if isinstance(stored[0][2], dict) else json.loads(stored[0][2])
    assert raw["E-mail"] == "not-an-email"


def test_external_id_identity_and_x_education_style_values(engine_clean: Engine) -> None:
    result = import_csv(DATA / "pipe_external_id.csv")
    assert (result.created, result.rejected, result.warnings) == (3, 0, 1)
    leads = _leads(engine_clean)
    assert leads["P-1"]["country"] == "IN" and leads["P-1"]["outcome"] == "won"
    assert leads["P-2"]["country"] is None and _props(leads["P-2"]) == {}
    assert _props(leads["P-3"]) == {"country_raw": "unknown"}
    assert leads["P-1"]["first_source"] == "Google"


def test_file_level_failures_write_nothing(engine_clean: Engine, tmp_path: Path) -> None:
    no_id = _write(tmp_path / "noid.csv", [["First Name", "Company"], ["Ann", "Corp"]])
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    runner = CliRunner()
    for path, message in ((no_id, "no column identifies a lead"), (garbage, "not a text file"), (empty, "empty")):
        res = runner.invoke(app, ["leads", "import", str(path)])
        assert res.exit_code == 1, res.output
        assert message in res.output
        with pytest.raises(ImportFailed):
            import_csv(path)
    assert _count(engine_clean, Lead) == 0 and _count(engine_clean, LeadImport) == 0


def test_cli_reports_rows_and_dry_run_writes_nothing(engine_clean: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", [["Email", "Nombre"], ["x@corp.io", "X"], ["broken", "Y"]])
    runner = CliRunner()
    dry = runner.invoke(app, ["leads", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 would be rejected" in dry.output and _count(engine_clean, Lead) == 0
    res = runner.invoke(app, ["leads", "import", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["created"], out["rejected"]) == (1, 1)
    assert out["first_issues"][0]["row"] == 3 and out["first_issues"][0]["column"] == "Email"
    assert Path(out["report_path"]).parent == get_settings().data_dir / "imports"
    res = runner.invoke(app, ["leads", "import", str(path)])
    assert "row 3, column 'Email'" in res.output


def test_interrupted_import_keeps_whole_chunks(engine_clean: Engine, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "import_chunk_rows", 3)
    rows = [["Email", "Company"]] + [[f"p{i}@corp{i % 2}.io", f"Corp {i % 2}"] for i in range(10)]
    path = _write(tmp_path / "i.csv", rows)

    def stop(done: int, total: int) -> None:
        if done >= 3:
            raise KeyboardInterrupt

    with pytest.raises(ImportInterrupted) as info:
        import_csv(path, progress=stop)
    assert info.value.result.status == "interrupted" and info.value.result.created == 3
    assert _count(engine_clean, Lead) == 3
    with engine_clean.connect() as conn:
        orphans = conn.scalar(text("SELECT count(*) FROM leads l WHERE NOT EXISTS "
                                   "(SELECT 1 FROM stage_changes s WHERE s.lead_id = l.id) OR company_id IS NULL"))
        status = conn.scalar(select(LeadImport.status))
    assert orphans == 0 and status == "interrupted"
    resumed = import_csv(path)
    assert (resumed.created, resumed.unchanged) == (7, 3)


@pytest.mark.skipif(not X_EDUCATION_CSV.exists(), reason=f"real data file {X_EDUCATION_CSV} is not present")
def test_x_education_file(engine_clean: Engine) -> None:
    result = import_csv(X_EDUCATION_CSV)
    assert (result.total_rows, result.created, result.rejected) == (9240, 9240, 0)
    with engine_clean.connect() as conn:
        won = conn.scalar(select(func.count()).where(Lead.outcome == "won", Lead.stage == "customer"))
        select_countries = conn.scalar(select(func.count()).where(Lead.country.is_(None)))
    assert won == 3561
    assert select_countries > 0
    assert import_csv(X_EDUCATION_CSV).unchanged == 9240


def test_lead_repeated_across_chunks_is_stable_on_reimport(engine_clean: Engine, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "import_chunk_rows", 2)
    path = _write(tmp_path / "s.csv", [["Email", "First Name"], ["a@corp.io", "Ann"], ["b@corp.io", "Bob"],
                                       ["c@corp.io", "Cy"], ["A@corp.io", "Anna"], ["d@corp.io", "Di"]])
    first = import_csv(path)
    assert (first.created, first.duplicates) == (4, 1)
    assert _leads(engine_clean)["a@corp.io"]["first_name"] == "Anna"
    again = import_csv(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert _count(engine_clean, Event) == 0


def test_row_with_more_values_than_the_header_is_rejected_whole(engine_clean: Engine, tmp_path: Path) -> None:
    # An unquoted comma inside "Acme, Inc." shifts every later value one column to the right:
    # the row is refused with all its values kept, never trimmed to fit the header.
    path = tmp_path / "ragged.csv"
    path.write_text(
        "Email,Company,Country\n"
        "ana@acme.io,Acme, Inc.,ES\n"
        "bo@corp.io,Corp,FR\n"
        "cy@corp.io,Corp\n"
        "di@corp.io,Corp,DE,\n",  # a trailing empty field is common in exports, and harmless
        encoding="utf-8",
    )
    result = import_csv(path)
    assert (result.created, result.rejected) == (3, 1)
    assert set(_leads(engine_clean)) == {"bo@corp.io", "cy@corp.io", "di@corp.io"}
    with engine_clean.connect() as conn:
        row, column, reason, raw = conn.execute(
            select(ImportRejection.row_number, ImportRejection.column, ImportRejection.reason, ImportRejection.raw)
        ).one()
    assert (row, column) == (2, "(after the last column)")
    assert "more values than the header" in reason
    raw = raw if isinstance(raw, dict) else json.loads(raw)
    assert raw["Email"] == "ana@acme.io" and raw["Country"] == " Inc." and raw["(after the last column)"] == "ES"
