"""Uniform JSON errors that name the field at fault."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if (p not in ("body", "query", "path", "header") and not isinstance(p, int))
             or (isinstance(p, int) and len(loc) > 2)]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        msg = err.get("msg", "invalid")
        msg = msg.removeprefix("Value error, ")
        field = "body" if err.get("type") == "json_invalid" else _field(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            msg = f"malformed JSON: {err.get('ctx', {}).get('error', msg)}"
        out.append({"field": field, "message": msg, "type": err.get("type")})
    return out


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return JSONResponse({"detail": summary, "errors": errors}, status_code=422)


def field_error(status: int, field: str | None, message: str) -> JSONResponse:
    label = f"{field}: {message}" if field else message
    return JSONResponse({"detail": label, "errors": [{"field": field or "body", "message": message}]},
                        status_code=status)
