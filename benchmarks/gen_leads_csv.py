"""Deterministic, realistic lead CSV for the import benchmark (seeded; same rows every run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

FIRST = ["Ana", "Luis", "María", "José", "John", "Mary", "Wei", "Priya", "Olga", "Ahmed", "Lucía", "Peter", "Sara",
         "Tom", "Chloé", "Jürgen", "Fatima", "Carlos", "Emma", "Noah", "Liam", "Sofía", "Mateo", "Aiko"]
LAST = ["García", "Smith", "Müller", "Rossi", "Dubois", "Kowalski", "Nakamura", "Silva", "Brown", "López",
        "Martínez", "O'Brien", "Ivanova", "Khan", "Nguyen", "Fernández", "Johnson", "Wilson", "Sánchez", "Costa"]
TITLES = ["CEO", "CTO", "Marketing Manager", "Head of Sales", "Director de Marketing", "Jefe de Compras",
          "Software Engineer", "Analyst", "VP Operations", "Gerente General", "Consultant", "Student"]
COUNTRIES = ["Spain", "ES", "España", "United States", "US", "USA", "Mexico", "MX", "Germany", "DE", "France",
             "United Kingdom", "UK", "Argentina", "Colombia", "Chile", "India", "Brazil", "Italy", "Portugal"]
PHONE_CC = {"ES": "+34", "US": "+1", "MX": "+52", "DE": "+49", "FR": "+33", "GB": "+44", "AR": "+54",
            "CO": "+57", "CL": "+56", "IN": "+91", "BR": "+55", "IT": "+39", "PT": "+351"}
SOURCES = [("google", "cpc"), ("google", "organic"), ("linkedin", "paid_social"), ("newsletter", "email"),
           ("feria-ifema", "tradeshow"), ("partner", "referral"), ("facebook", "social"), (None, None)]
FREE = ["gmail.com", "hotmail.com", "yahoo.es", "outlook.com"]


def generate(path: Path, *, rows: int, seed: int = 7) -> Path:
    """Write ROWS lead rows to PATH (about 2% repeated people, 1% bad rows) and return PATH."""
    rng = np.random.default_rng(seed)
    n = rows
    i = np.arange(n)
    first = np.array(FIRST)[rng.integers(0, len(FIRST), n)]
    last = np.array(LAST)[rng.integers(0, len(LAST), n)]
    n_companies = max(50, n // 200)
    company_idx = rng.integers(0, n_companies, n)
    free = rng.random(n) < 0.4
    df = pl.DataFrame({"i": i, "first": first, "last": last, "cidx": company_idx, "free": free,
                       "fidx": rng.integers(0, len(FREE), n), "title": np.array(TITLES)[rng.integers(0, len(TITLES), n)],
                       "country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)],
                       "src": rng.integers(0, len(SOURCES), n), "phone_kind": rng.integers(0, 4, n),
                       "phone_num": rng.integers(600_000_000, 699_999_999, n),
                       "days": rng.integers(0, 3 * 365, n), "won": rng.random(n) < 0.08,
                       "dup": rng.random(n) < 0.02, "bad": rng.random(n) < 0.01, "score": rng.integers(0, 100, n)})
    ascii_first = pl.col("first").str.to_lowercase().str.replace_all("[áàä]", "a").str.replace_all("[éè]", "e") \
        .str.replace_all("[íï]", "i").str.replace_all("[óö]", "o").str.replace_all("[úü]", "u").str.replace_all("ñ", "n")
    ascii_last = pl.col("last").str.to_lowercase().str.replace_all("[áàä]", "a").str.replace_all("[éè]", "e") \
        .str.replace_all("[íï]", "i").str.replace_all("[óö]", "o").str.replace_all("[úü]", "u") \
        .str.replace_all("ñ", "n").str.replace_all("'", "")
    domain = pl.when(pl.col("free")).then(pl.col("fidx").replace_strict(dict(enumerate(FREE)))) \
        .otherwise(pl.format("company{}.com", pl.col("cidx")))
    email = pl.format("{}.{}{}@{}", ascii_first, ascii_last, pl.col("i"), domain)
    # A repeated person reuses an earlier row's address (in other letter case), as re-sent forms do.
    email = pl.when(pl.col("dup")).then(email.gather(pl.col("i") // 3).str.to_uppercase()).otherwise(email)
    email = pl.when(pl.col("bad")).then(pl.format("{}.{}{} at example", ascii_first, ascii_last, pl.col("i"))) \
        .otherwise(email)
    src = pl.col("src")
    phone = pl.when(pl.col("phone_kind") == 0).then(pl.format("+34 {}", pl.col("phone_num").cast(pl.String))) \
        .when(pl.col("phone_kind") == 1).then(pl.format("0034-{}", pl.col("phone_num").cast(pl.String))) \
        .when(pl.col("phone_kind") == 2).then(pl.lit(None, dtype=pl.String)) \
        .otherwise(pl.format("({}) {}", pl.col("phone_num") % 1000, pl.col("phone_num") // 1000 % 1000000))
    out = df.select(
        email.alias("Email"), pl.col("first").alias("First Name"), pl.col("last").alias("Last Name"),
        pl.format("Company {} S.L.", pl.col("cidx")).alias("Company"), pl.col("title").alias("Job Title"),
        pl.col("country").alias("Country"), phone.alias("Phone"),
        src.replace_strict({k: v[0] for k, v in enumerate(SOURCES)}, return_dtype=pl.String).alias("utm_source"),
        src.replace_strict({k: v[1] for k, v in enumerate(SOURCES)}, return_dtype=pl.String).alias("utm_medium"),
        pl.format("campaign-{}", pl.col("i") % 40).alias("utm_campaign"),
        (pl.lit(np.datetime64("2023-01-01")).cast(pl.Date) + pl.duration(days=pl.col("days"))).cast(pl.String)
        .alias("Created"),
        pl.when(pl.col("won")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("Converted"),
        pl.col("score").cast(pl.String).alias("Webinar Score"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    out.write_csv(path)
    return path


def modified(src: Path, dst: Path) -> Path:
    """SRC with every job title and score changed: a re-import where every lead is an update."""
    df = pl.read_csv(src, infer_schema=False)
    df = df.with_columns(pl.col("Job Title") + " II", (pl.col("Webinar Score") + "0").alias("Webinar Score"))
    df.write_csv(dst)
    return dst
