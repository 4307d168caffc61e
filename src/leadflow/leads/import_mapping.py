"""Which lead field each CSV column feeds: header synonyms (English and Spanish) and --map overrides."""

from __future__ import annotations

import re
import unicodedata

# Target fields a column can map to. The touch fields (source, medium, ...) fill both the
# first-touch (set once) and the last-touch (set) columns, as the capture API does.
LEAD_FIELDS: tuple[str, ...] = (
    "email", "external_id", "first_name", "last_name", "full_name", "phone", "job_title",
    "company_name", "industry", "company_size", "country", "city", "website",
    "source", "medium", "campaign", "content", "term", "referrer", "landing_page",
    "outcome", "deal_value", "lost_reason", "created_at",
)
PROPERTY_PREFIX = "properties."
IGNORE = "-"

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "correo", "correo electronico",
              "correo-e", "direccion de correo", "direccion de email", "work email", "business email",
              "email principal", "emailaddress"),
    "external_id": ("external id", "prospect id", "id", "lead id", "contact id", "record id", "id externo",
                    "identificador", "crm id", "id prospecto", "id del lead", "id de contacto"),
    "first_name": ("first name", "firstname", "given name", "forename", "nombre", "nombres", "name first",
                   "primer nombre", "nombre de pila"),
    "last_name": ("last name", "lastname", "surname", "family name", "apellido", "apellidos", "apellido s",
                  "primer apellido", "name last"),
    "full_name": ("name", "full name", "fullname", "contact name", "nombre completo", "nombre y apellidos",
                  "nombre apellidos"),
    "phone": ("phone", "phone number", "telephone", "tel", "telefono", "movil", "mobile", "mobile phone",
              "cell", "cell phone", "celular", "telefono movil", "work phone", "numero de telefono", "whatsapp"),
    "job_title": ("job title", "title", "position", "role", "cargo", "puesto", "job", "designation",
                  "puesto de trabajo", "titulo del puesto"),
    "company_name": ("company", "company name", "organization", "organisation", "organization name", "empresa",
                     "compania", "organizacion", "account", "account name", "employer", "nombre de la empresa"),
    "industry": ("industry", "industria", "sector", "vertical", "rubro"),
    "company_size": ("company size", "employees", "number of employees", "no of employees", "headcount",
                     "tamano de empresa", "tamano de la empresa", "tamano empresa", "empleados",
                     "numero de empleados"),
    "country": ("country", "pais", "country code", "country region", "nation", "codigo de pais"),
    "city": ("city", "ciudad", "town", "localidad", "poblacion", "municipio"),
    "website": ("website", "web site", "sitio web", "web", "url", "company website", "pagina web", "sitio"),
    "source": ("utm source", "source", "lead source", "fuente", "origen", "fuente del lead", "origen del lead"),
    "medium": ("utm medium", "medium", "medio"),
    "campaign": ("utm campaign", "campaign", "campana", "campaign name", "nombre de campana"),
    "content": ("utm content", "content", "contenido"),
    "term": ("utm term", "term", "keyword", "palabra clave"),
    "referrer": ("referrer", "referer", "referrer url", "referente"),
    "landing_page": ("landing page", "landing page url", "pagina de destino", "landing"),
    "outcome": ("converted", "outcome", "won", "resultado", "convertido", "ganado", "closed won", "is won"),
    "deal_value": ("deal value", "deal amount", "amount", "importe", "valor", "revenue", "value", "monto",
                   "valor del negocio"),
    "lost_reason": ("lost reason", "reason lost", "motivo de perdida", "razon de perdida"),
    "created_at": ("created", "created at", "created date", "date created", "creation date", "fecha de alta",
                   "fecha alta", "fecha de creacion", "signup date", "fecha de registro", "date", "fecha"),
}


def fold_header(header: str) -> str:
    """A header reduced for lookup: lowercase, no accents, punctuation and spacing removed."""
    decomposed = unicodedata.normalize("NFKD", header)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "", stripped.lower())


_LOOKUP: dict[str, str] = {fold_header(s): field for field, names in _SYNONYMS.items() for s in names}


class MappingError(ValueError):
    """An override that names an unknown column or field."""


def parse_map_args(args: list[str]) -> dict[str, str]:
    """`column=field` strings as {column: field}; MappingError on a malformed one."""
    out: dict[str, str] = {}
    for arg in args:
        column, sep, field = arg.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise MappingError(f"--map {arg!r}: expected column=field (or column=- to ignore the column)")
        out[column.strip()] = field.strip()
    return out


def column_keys(headers: list[str]) -> list[str]:
    """A unique key per column: its header, 'column N' when blank, with ' (2)' on a repeated header."""
    keys: list[str] = []
    seen: set[str] = set()
    for i, header in enumerate(headers):
        key = header.strip() or f"column {i + 1}"
        n = 2
        while key in seen:
            key, n = f"{header.strip() or f'column {i + 1}'} ({n})", n + 1
        seen.add(key)
        keys.append(key)
    return keys


def build_mapping(headers: list[str], overrides: dict[str, str] | None = None) -> dict[str, str | None]:
    """{header: field | 'properties.<key>' | None} for every column; the first column wins a field."""
    resolved_overrides = _resolve_overrides(headers, overrides or {})
    mapping: dict[str, str | None] = {}
    taken = {f for f in resolved_overrides.values() if f and not f.startswith(PROPERTY_PREFIX)}
    for i, (header, key) in enumerate(zip(headers, column_keys(headers), strict=True)):
        if i in resolved_overrides:
            mapping[key] = resolved_overrides[i]
            continue
        field = _LOOKUP.get(fold_header(header))
        if field is not None and field not in taken:
            taken.add(field)
            mapping[key] = field
        else:
            mapping[key] = PROPERTY_PREFIX + key
    return mapping


def _resolve_overrides(headers: list[str], overrides: dict[str, str]) -> dict[int, str | None]:
    by_exact = {h: i for i, h in enumerate(headers)}
    by_fold = {fold_header(h): i for i, h in enumerate(headers)}
    out: dict[int, str | None] = {}
    for column, field in overrides.items():
        index = by_exact.get(column)
        if index is None:
            index = by_fold.get(fold_header(column))
        if index is None:
            raise MappingError(
                f"--map {column}={field}: the file has no column {column!r}; its columns are: "
                + ", ".join(repr(h) for h in headers)
            )
        if field == IGNORE:
            out[index] = None
        elif (field.startswith(PROPERTY_PREFIX) and len(field) > len(PROPERTY_PREFIX)) or field in LEAD_FIELDS:
            out[index] = field
        else:
            raise MappingError(
                f"--map {column}={field}: unknown field {field!r}; valid fields are: {', '.join(LEAD_FIELDS)}, "
                f"properties.<name>, or - to ignore the column"
            )
    return out


def identifier_of(mapping: dict[str, str | None]) -> str | None:
    """'email' when a column maps to email, else 'external_id', else None (the file cannot be imported)."""
    fields = set(mapping.values())
    if "email" in fields:
        return "email"
    if "external_id" in fields:
        return "external_id"
    return None
