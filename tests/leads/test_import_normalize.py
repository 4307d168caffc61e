"""The importer's vectorized shortcuts agree with the scalar normalizers (no database needed)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.leads.import_mapping import build_mapping, fold_header
from leadflow.leads.import_normalize import (
    clean_name_series,
    clean_text_series,
    normalize_email_series,
)
from leadflow.leads.normalize import InvalidValue, clean_name, clean_text, normalize_email

_local = st.from_regex(r"[A-Za-z0-9_+.-]{1,70}", fullmatch=True)
_label = st.from_regex(r"[A-Za-z0-9-]{1,66}", fullmatch=True)
_tld = st.sampled_from(["com", "ES", "io", "local", "test", "invalid", "onion", "arpa", "c", "co1", "xn--p1ai"])
_emails = st.one_of(
    st.builds(lambda lo, labels, tld, pad: f"{pad}{lo}@{'.'.join(labels)}.{tld}{pad}",
              _local, st.lists(_label, min_size=1, max_size=3), _tld, st.sampled_from(["", " ", "\t", "\u3000"])),
    st.text(max_size=40),
)


def _scalar(fn, value):
    try:
        return fn(value)
    except InvalidValue:
        return "<invalid>"


@settings(max_examples=400, deadline=None)
@given(st.lists(_emails, min_size=1, max_size=30))
def test_email_fast_path_matches_normalize_email(values: list[str]) -> None:
    out, err = normalize_email_series(pl.Series(values, dtype=pl.String))
    for raw, got, reason in zip(values, out.to_list(), err.to_list(), strict=True):
        expected = _scalar(normalize_email, raw)
        assert (got if reason is None else "<invalid>") == expected, raw


_texts = st.text(alphabet=st.sampled_from([*list("ab Z<>/:.w"), "\t", "\n", "é", "\u200b", "\x7f", "\x01"]), max_size=40)


@settings(max_examples=400, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=30), st.integers(min_value=1, max_value=50))
def test_text_fast_path_matches_clean_text(values: list[str], limit: int) -> None:
    out = clean_text_series(pl.Series(values, dtype=pl.String), limit=limit).to_list()
    assert out == [clean_text(v, max_length=limit) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_texts, st.sampled_from(["http://x.io", "Ana www.x", "<b>x</b>", "Ana"])), min_size=1))
def test_name_path_matches_clean_name(values: list[str]) -> None:
    out, err = clean_name_series(pl.Series(values, dtype=pl.String))
    for raw, got, reason in zip(values, out.to_list(), err.to_list(), strict=True):
        assert (got if reason is None else "<invalid>") == _scalar(clean_name, raw), raw


def test_headers_fold_and_map_english_and_spanish() -> None:
    headers = ["E-mail", "Correo electrónico", "Apellido(s)", "Tamaño de empresa", "utm_source", "Sitio web",
               "Fecha de alta", "Prospect ID", "Won", "Importe", "Puesto", "Móvil", "Whatever"]
    mapping = build_mapping(headers)
    assert mapping == {
        "E-mail": "email", "Correo electrónico": "properties.Correo electrónico", "Apellido(s)": "last_name",
        "Tamaño de empresa": "company_size", "utm_source": "source", "Sitio web": "website",
        "Fecha de alta": "created_at", "Prospect ID": "external_id", "Won": "outcome", "Importe": "deal_value",
        "Puesto": "job_title", "Móvil": "phone", "Whatever": "properties.Whatever",
    }
    assert fold_header(" Correo  Electrónico ") == "correoelectronico"
