"""API shapes for forms and submissions (pydantic), separate from the ORM models."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from leadflow.schemas import DbId, InputModel, UtcDatetime

# Field types that fill a lead field of the same name; the others become custom properties.
STANDARD_FIELDS = ("email", "first_name", "last_name", "phone", "company_name", "job_title", "country",
                   "company_size")
CUSTOM_FIELDS = ("text", "textarea", "select", "checkbox", "hidden")
FieldType = Literal["email", "first_name", "last_name", "phone", "company_name", "job_title", "country",
                    "company_size", "text", "textarea", "select", "checkbox", "hidden"]
Language = Literal["en", "es"]
SuccessAction = Literal["message", "redirect", "magnet"]
# Names the public endpoint reserves for its own use (honeypot, render token, consent, visitor).
RESERVED_KEYS = frozenset({"_hp", "_ts", "consent", "visitor_id", "page_url", "referrer"})
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$"


class FormField(InputModel):
    """One input of a form."""

    key: str = Field(max_length=63, description="Lead field for standard types; custom property name otherwise.")
    type: FieldType
    label: str = Field("", max_length=200, description="In the form's language; empty uses the built-in label.")
    required: bool = False
    options: list[str] = Field(default_factory=list, max_length=100, description="Choices of a select.")
    value: str | None = Field(None, max_length=500, description="A hidden field's value (else taken from the page URL).")
    placeholder: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if not _KEY.match(self.key) or self.key in RESERVED_KEYS:
            raise ValueError(f"field key {self.key!r} must be lowercase letters, digits and _ and not reserved")
        if self.type in STANDARD_FIELDS and self.key != self.type:
            raise ValueError(f"a {self.type} field must have the key {self.type!r}")
        if self.type not in STANDARD_FIELDS and self.key in STANDARD_FIELDS:
            raise ValueError(f"key {self.key!r} is a standard field; give it type {self.key!r}")
        if self.type == "select" and not self.options:
            raise ValueError(f"select field {self.key!r} needs options")
        if any(len(o) > 200 or not o.strip() for o in self.options):
            raise ValueError(f"options of {self.key!r} must be 1-200 characters")
        return self


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc.lower()}"


class FormSettings(InputModel):
    """Everything about a form a user can change."""

    name: str = Field(min_length=1, max_length=200)
    language: Language = "en"
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    submit_label: str = Field("", max_length=100)
    fields: list[FormField] = Field(min_length=1, max_length=50)
    campaign_id: DbId | None = None
    success_action: SuccessAction = "message"
    success_message: str = Field("", max_length=2000)
    redirect_url: str | None = Field(None, max_length=2000, validate_default=True)
    consent_enabled: bool = False
    consent_required: bool = False
    consent_text: str = Field("", max_length=2000, validate_default=True)
    double_opt_in: bool = Field(False, description="Ticked consent counts only once the emailed link is followed.")
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    min_submit_seconds: int = Field(2, ge=0, le=600, description="Faster submissions are quarantined as bots.")
    is_active: bool = True

    @field_validator("name", "title", "description", "submit_label", "success_message", "consent_text")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        return sorted({_origin(o) for o in v if o.strip()})

    @field_validator("redirect_url")
    @classmethod
    def _redirect(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the redirect must be an http(s) URL")
        return v.strip()

    # Field validators (not one model check) so that each error names its field.
    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[FormField]) -> list[FormField]:
        keys = [f.key for f in v]
        if len(set(keys)) != len(keys):
            raise ValueError("field keys must be unique")
        email = [f for f in v if f.type == "email"]
        if not email:
            raise ValueError("a form needs an email field")
        email[0].required = True
        return v

    @field_validator("redirect_url", mode="after")
    @classmethod
    def _redirect_needed(cls, v: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("success_action") == "redirect" and not v:
            raise ValueError("a redirect needs redirect_url")
        return v

    @field_validator("consent_text", mode="after")
    @classmethod
    def _consent_text_needed(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("consent_enabled") and not v:
            raise ValueError("a consent checkbox needs its text (consent_text)")
        return v


class FormIn(FormSettings):
    slug: str = Field(min_length=1, max_length=100, pattern=_SLUG,
                      description="URL name: the hosted page is /f/{slug}.")


class FormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    language: str
    title: str
    description: str
    submit_label: str
    fields: list[dict[str, Any]]
    campaign_id: int | None
    success_action: str
    success_message: str
    redirect_url: str | None
    consent_enabled: bool
    consent_required: bool
    consent_text: str
    consent_version: int
    consent_versions: list[dict[str, Any]]
    double_opt_in: bool = False
    allowed_origins: list[str]
    min_submit_seconds: int
    is_active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime
    magnet_filename: str | None = Field(None, description="The lead magnet's file name, when one was uploaded.")
    magnet_size: int | None = None
    url: str | None = Field(None, description="The hosted landing page (path).")


class SubmissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    form_id: int
    received_at: UtcDatetime
    status: str
    reasons: list[str]
    payload: dict[str, Any]
    context: dict[str, Any]
    visitor_id: str | None
    lead_id: int | None
    processed_at: UtcDatetime | None
    error: str | None
    released_by: int | None
    released_at: UtcDatetime | None


class SubmissionPage(BaseModel):
    total: int
    items: list[SubmissionOut]
