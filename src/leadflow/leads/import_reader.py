"""Reading a CSV of unknown origin: encoding, delimiter, header and row batches as Polars frames."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
_BLOCK = 1 << 20
# Text files have next to no C0 control characters besides tab and line breaks; binary files have many.
_MAX_CONTROL_RATIO = 0.01


class UnreadableFile(ValueError):
    """The file is not a CSV we can read, with the reason for the user."""


@dataclass(slots=True)
class CsvFormat:
    encoding: str  # "utf-8" | "utf-8-sig" | "cp1252" | "latin-1"
    delimiter: str
    headers: list[str]


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else cp1252 or Latin-1."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise UnreadableFile(f"{path.name} is empty")
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        if b"\x00" in head:
            raise UnreadableFile(f"{path.name} is not a text file (it contains NUL bytes; is it a spreadsheet "
                                 "or a compressed file? Save it as CSV)")
        bom = head.startswith(codecs.BOM_UTF8)
        decoder = codecs.getincrementaldecoder("utf-8")()
        fh.seek(0)
        try:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            encoding = "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError:
            encoding = _single_byte_encoding(path)
    text = head.decode(encoding, errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(2, len(text) * _MAX_CONTROL_RATIO):
        raise UnreadableFile(f"{path.name} does not look like a CSV text file (binary data); save it as CSV "
                             "in UTF-8 or Latin-1")
    if encoding not in ("utf-8", "utf-8-sig"):
        _check_plausible_text(path, head)
    return encoding


def _single_byte_encoding(path: Path) -> str:
    # cp1252 leaves five byte values undefined; a file using them can only be Latin-1.
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if any(b in block for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")):
                return "latin-1"
    return "cp1252"


def _check_plausible_text(path: Path, head: bytes) -> None:
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None or (best.chaos > 0.5):
        raise UnreadableFile(f"{path.name} is not UTF-8, UTF-8 with BOM, Latin-1 or Windows-1252 text; "
                             "save it as CSV (UTF-8)")


def detect_format(path: Path) -> CsvFormat:
    """The encoding, delimiter and header row of PATH; UnreadableFile when it is not a readable CSV."""
    encoding = detect_encoding(path)
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    text = head.decode(encoding, errors="replace")
    if len(head) == SAMPLE_BYTES and "\n" in text:
        # Drop the last line: it is probably cut in the middle.
        text = text[: text.rindex("\n") + 1]
    if not text.strip():
        raise UnreadableFile(f"{path.name} is empty")
    delimiter = detect_delimiter(text)
    headers = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not any(h.strip() for h in headers):
        raise UnreadableFile(f"{path.name} has no header row (the first line is empty)")
    return CsvFormat(encoding=encoding, delimiter=delimiter, headers=headers)


def detect_delimiter(text: str) -> str:
    """The candidate delimiter that splits the sample's lines into the most consistent, widest rows."""
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[:50]
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width or not r)
        score = (consistent if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def count_lines(path: Path) -> int:
    """Line breaks in the file, less the header: the row count unless fields contain line breaks."""
    n = 0
    last = b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK * 4):
            n += block.count(b"\n")
            last = block
    if last and not last.endswith(b"\n"):
        n += 1
    return max(n - 1, 0)


def utf8_copy(path: Path, *, encoding: str, directory: Path) -> Path:
    """PATH transcoded to UTF-8 in DIRECTORY, streaming (Polars reads only UTF-8)."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(dir=directory, suffix=".csv", delete=False)  # noqa: SIM115
    with path.open("r", encoding=encoding, newline="") as src, tmp:
        while block := src.read(_BLOCK):
            tmp.write(block.encode("utf-8"))
    return Path(tmp.name)


# Values beyond the header's last column land here instead of being cut off, so such a row
# (usually an unquoted delimiter that shifted every later value) is reported, never trimmed.
EXTRA_COLUMN = "_extra"


def scan(path: Path, *, fmt: CsvFormat) -> pl.LazyFrame:
    """The data rows of a UTF-8 file as string columns c0..cN plus EXTRA_COLUMN (null for empty)."""
    schema = {f"c{i}": pl.String for i in range(len(fmt.headers))} | {EXTRA_COLUMN: pl.String}
    return pl.scan_csv(
        path, separator=fmt.delimiter, has_header=False, skip_rows=1, schema=schema,
        missing_columns="insert", truncate_ragged_lines=True, quote_char='"', raise_if_empty=False,
        encoding="utf8",
    )


def iter_batches(path: Path, *, fmt: CsvFormat, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The data rows, BATCH_ROWS at a time."""
    yield from scan(path, fmt=fmt).collect_batches(chunk_size=batch_rows, lazy=True)


def sample_rows(path: Path, *, fmt: CsvFormat, n: int) -> list[list[str]]:
    """The first N data rows as raw strings."""
    rows: list[list[str]] = []
    with path.open("r", encoding=fmt.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=fmt.delimiter)
        next(reader, None)
        for row in reader:
            if len(rows) >= n:
                break
            rows.append(row)
    return rows
