"""One typed settings object, read from LEADFLOW_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-key-change-me"


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as LEADFLOW_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment kind; production refuses the default secret."
    )
    data_dir: Path = Field(Path("leadflow-data"), description="Where the SQLite file, imports and reports live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; empty means SQLite in data_dir/leadflow.db."
    )
    secret_key: SecretStr = Field(SecretStr(DEV_SECRET), description="Signs session cookies and tokens.")
    host: str = Field("127.0.0.1", description="Address `leadflow serve` binds to.")
    port: int = Field(8000, description="Port `leadflow serve` binds to.")
    max_body_bytes: int = Field(2_000_000, description="Largest JSON/form request body accepted (bytes).")
    max_upload_bytes: int = Field(200_000_000, description="Largest CSV upload accepted in the UI (bytes).")
    cookie_secure: bool | None = Field(
        None, description="Force the Secure cookie flag; empty means secure whenever the request is HTTPS."
    )
    session_max_age_s: int = Field(14 * 24 * 3600, description="How long a UI login lasts (seconds).")
    timezone: str = Field("UTC", description="The workspace's time zone for dates shown and KPIs.")
    workspace_name: str = Field("leadflow", description="Name shown in the UI header.")
    import_chunk_rows: int = Field(50_000, description="Rows committed per transaction during CSV import.")
    submit_rate_limit: str = Field(
        "20/minute", description="Form submissions per IP address above which they are quarantined (limits syntax).")
    rate_limit_storage: str = Field(
        "memory://", description="Where rate-limit counters live: memory:// (one process) or redis://host:6379.")
    submission_processing: bool = Field(
        True, description="Turn pending form submissions into leads in the web process (else `leadflow submissions process`).")
    import_bulk_min_rows: int = Field(
        100_000, description="An import of at least this many rows, and twice as many as the table holds, "
        "sets the secondary lead indexes aside and builds them once at the end.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Address visitors reach leadflow at, for links in emails (no trailing /).")
    double_opt_in_max_age_days: int = Field(
        14, ge=1, description="Days a double opt-in confirmation link stays valid.")
    smtp_host: str | None = Field(None, description="SMTP server for outgoing email; empty keeps emails queued, unsent.")
    smtp_port: int = Field(25, description="SMTP server port.")
    smtp_username: str | None = Field(None, description="SMTP login; empty sends without authenticating.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS before logging in.")
    mail_from: str = Field("leadflow@localhost", description="From address of outgoing email.")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "production" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("LEADFLOW_SECRET_KEY must be set to a random value in production")
        if self.env == "production" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("LEADFLOW_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'leadflow.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return Settings()
