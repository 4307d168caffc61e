"""Daily spend from a CSV file: one row per campaign and day, checked row by row.

Like the lead import, good rows are recorded and bad rows are reported with their row and column;
a file that cannot be read, or lacks a required column, writes nothing. Recording a day sets its
amount, so importing a corrected file again fixes what the first run got wrong.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from sqlalchemy.orm import Session

from leadflow.campaigns.models import Campaign
from leadflow.campaigns.schemas import SpendIn
from leadflow.campaigns.service import CampaignError, list_campaigns, list_spend, record_spend

COLUMNS = ("campaign", "day", "amount")
# Other headers people write for the same columns (compared after folding: lowercase, no accents).
ALIASES = {
    "campaign": ("campaign", "campaign id", "campaign name", "utm campaign", "utm_campaign", "campana", "campaña"),
    "day": ("day", "date", "fecha", "dia", "día"),
    "amount": ("amount", "spend", "cost", "importe", "gasto", "coste"),
}
DELIMITERS = (",", ";", "\t", "|")
MAX_ROWS = 100_000  # ~270 years of one campaign: far beyond a real ledger, a guard against the wrong file
WRITE_BATCH = 1000  # days per record_spend call: keeps its IN (...) list well under SQLite's limit
EXTRA_COLUMN = "(after the last column)"


@dataclass(frozen=True)
class SpendProblem:
    """One row that was refused (error) or recorded with a remark (warning)."""

    row: int  # as a spreadsheet shows it: the header is row 1
    column: str
    value: str
    reason: str
    severity: str = "error"


@dataclass
class SpendImportResult:
    rows: int = 0  # data rows read (blank lines are not counted)
    recorded: int = 0  # campaign days set (a day given twice counts once)
    new_days: int = 0
    changed_days: int = 0  # days that already had another amount
    unchanged_days: int = 0
    rejected: int = 0
    duplicates: int = 0
    total_amount: Decimal = Decimal(0)
    campaigns: dict[str, int] = field(default_factory=dict)  # campaign name: days recorded
    problems: list[SpendProblem] = field(default_factory=list)
    dry_run: bool = False


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-]+", " ", text).strip()


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252."""
    if b"\x00" in data[:4096]:
        raise CampaignError("this is not a CSV file (it contains NUL bytes)", field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most rows of the header's width."""
    lines = text.splitlines()[:50]
    best, best_score = ",", -1
    for d in DELIMITERS:
        widths = [len(r) for r in csv.reader(lines, delimiter=d)]
        if not widths or widths[0] < 2:
            continue
        score = sum(1 for w in widths if w == widths[0])
        if score > best_score:
            best, best_score = d, score
    return best


def parse_amount(text: str) -> Decimal:
    """An amount as written in a spreadsheet: 1234.5, 1,234.50, 1.234,50 or 1234,50 (no currency sign)."""
    s = text.strip().replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not s:
        raise ValueError("empty")
    if "," in s and "." in s:
        # Both: the last one is the decimal separator, the other groups thousands.
        thousands = "," if s.rfind(",") < s.rfind(".") else "."
        s = s.replace(thousands, "")
        s = s.replace(",", ".")
    elif "," in s:
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+", s):
            s = s.replace(",", "")  # 1,234 or 1,234,567: thousands
        elif re.fullmatch(r"-?\d+,\d{1,2}", s):
            s = s.replace(",", ".")  # 1234,5: a decimal comma
        else:
            raise ValueError("not a number")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}", s):
        s = s.replace(".", "")  # 1.234.567: thousands
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    return value


def amount_problem(exc: ValueError) -> str:
    """Why an amount was refused, in words (from parse_amount or SpendIn's checks)."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return {"greater_than_equal": "negative: spend is 0 or more",
                "decimal_max_places": "more than 2 decimals",
                "decimal_whole_digits": "too large",
                "decimal_max_digits": "too large"}.get(err["type"], err["msg"])
    return "empty" if str(exc) == "empty" else "not an amount (write 1234.50)"


class _Campaigns:
    """Finds a campaign by id, name or utm_campaign (in that order), case-insensitively for text."""

    def __init__(self, campaigns: list[Campaign]):
        self.by_id = {c.id: c for c in campaigns}
        self.by_name = {c.name.strip().lower(): c for c in campaigns}
        self.by_utm = {c.utm_campaign.strip().lower(): c for c in campaigns if c.utm_campaign}

    def find(self, value: str) -> Campaign | None:
        v = value.strip()
        if v.isdigit() and int(v) in self.by_id:
            return self.by_id[int(v)]
        return self.by_name.get(v.lower()) or self.by_utm.get(v.lower())


def _header_map(header: list[str]) -> dict[str, int]:
    """{column: index in the row} for the three columns; an error naming what is missing."""
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        folded = _fold(name)
        for col, names in ALIASES.items():
            if col not in found and folded in {_fold(n) for n in names}:
                found[col] = i
                break
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise CampaignError(f"the file needs the columns {', '.join(COLUMNS)}; missing: {', '.join(missing)} "
                            f"(header: {', '.join(header) or 'empty'})", field="file")
    return found


def import_spend_csv(session: Session, *, data: bytes, dry_run: bool = False) -> SpendImportResult:
    """Record the daily spend in DATA (CSV: campaign, day, amount); bad rows are reported, good ones recorded."""
    text = decode(data)
    if not text.strip():
        raise CampaignError("the file is empty", field="file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CampaignError(f"the file is not readable as CSV: {exc}", field="file") from None
    where = _header_map(header)
    names = {col: header[i].strip() or col for col, i in where.items()}
    campaigns = _Campaigns(list_campaigns(session))
    result = SpendImportResult(dry_run=dry_run)
    # (campaign id, day) -> (row number, amount): a later row for the same day replaces the earlier.
    chosen: dict[tuple[int, date], tuple[int, Decimal]] = {}
    try:
        for row_number, row in enumerate(reader, start=2):
            if not any(v.strip() for v in row):
                continue
            result.rows += 1
            if result.rows > MAX_ROWS:
                raise CampaignError(f"more than {MAX_ROWS:,} rows: split the file", field="file")
            problem = _check_row(row, row_number, len(header), where, names, campaigns, chosen, result)
            if problem is not None:
                result.problems.append(problem)
                result.rejected += 1
    except csv.Error as exc:
        raise CampaignError(f"the file is not readable as CSV near row {reader.line_num}: {exc}", field="file") from None
    _record(session, chosen, campaigns, result, dry_run=dry_run)
    result.problems.sort(key=lambda p: (p.row, p.severity))
    return result


def _check_row(row: list[str], n: int, width: int, where: dict[str, int], names: dict[str, str], campaigns: _Campaigns,
               chosen: dict[tuple[int, date], tuple[int, Decimal]], result: SpendImportResult) -> SpendProblem | None:
    """The row's first problem, or None after noting its (campaign, day, amount) in CHOSEN."""
    def cell(col: str) -> str:
        i = where[col]
        return row[i].strip() if i < len(row) else ""

    if any(v.strip() for v in row[width:]):
        # More values than the header has columns: often an unquoted "1,234.50" in a comma-separated file.
        return SpendProblem(n, EXTRA_COLUMN, ",".join(row), "more values than the header has columns "
                            "(quote amounts written with a comma)")
    raw_campaign, raw_day, raw_amount = cell("campaign"), cell("day"), cell("amount")
    if not raw_campaign:
        return SpendProblem(n, names["campaign"], "", "empty: give a campaign id, name or utm_campaign")
    campaign = campaigns.find(raw_campaign)
    if campaign is None:
        return SpendProblem(n, names["campaign"], raw_campaign, "no campaign with this id, name or utm_campaign")
    try:
        day = date.fromisoformat(raw_day)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_day):
            raise ValueError
    except ValueError:
        return SpendProblem(n, names["day"], raw_day, "not a date written YYYY-MM-DD" if raw_day else "empty")
    try:
        amount = parse_amount(raw_amount)
        entry = SpendIn(day=day, amount=amount)
    except ValueError as exc:
        return SpendProblem(n, names["amount"], raw_amount, amount_problem(exc))
    key = (campaign.id, entry.day)
    if key in chosen:
        earlier = chosen[key][0]
        result.duplicates += 1
        result.problems.append(SpendProblem(n, names["day"], raw_day, f"{campaign.name} on {entry.day} is also on "
                                            f"row {earlier}: this row's amount is kept", severity="warning"))
    chosen[key] = (n, entry.amount)
    return None


def _record(session: Session, chosen: dict[tuple[int, date], tuple[int, Decimal]], campaigns: _Campaigns,
            result: SpendImportResult, *, dry_run: bool) -> None:
    by_campaign: dict[int, list[SpendIn]] = {}
    for (cid, day), (_, amount) in sorted(chosen.items()):
        by_campaign.setdefault(cid, []).append(SpendIn(day=day, amount=amount))
    for cid, entries in by_campaign.items():
        campaign = campaigns.by_id[cid]
        before = {s.day: s.amount for s in list_spend(session, campaign_id=cid)}
        for e in entries:
            if e.day not in before:
                result.new_days += 1
            elif before[e.day] != e.amount:
                result.changed_days += 1
            else:
                result.unchanged_days += 1
            result.total_amount += e.amount
        if not dry_run:
            for start in range(0, len(entries), WRITE_BATCH):
                record_spend(session, campaign=campaign, entries=entries[start:start + WRITE_BATCH])
        result.recorded += len(entries)
        result.campaigns[campaign.name] = len(entries)
