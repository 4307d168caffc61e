"""Built-in texts of public forms, in each language a form can use."""

from __future__ import annotations

LANGUAGES = ("en", "es")

FIELD_LABELS: dict[str, dict[str, str]] = {
    "en": {"email": "Email", "first_name": "First name", "last_name": "Last name", "phone": "Phone",
           "company_name": "Company", "job_title": "Job title", "country": "Country",
           "company_size": "Company size"},
    "es": {"email": "Correo electrónico", "first_name": "Nombre", "last_name": "Apellidos", "phone": "Teléfono",
           "company_name": "Empresa", "job_title": "Cargo", "country": "País",
           "company_size": "Tamaño de la empresa"},
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {"submit": "Send", "required": "required", "optional": "optional", "thanks": "Thank you!",
           "missing": "Please fill in {label}.", "invalid_email": "Please enter a valid email address.",
           "choose": "Choose…", "download": "Download {name}", "error": "Something went wrong. Please try again.",
           "sending": "Sending…", "consent_missing": "Please accept the consent checkbox.",
           "not_found": "This form does not exist or is closed.",
           "doi_subject": "Please confirm your subscription",
           "doi_body": "Hello,\n\nYou ticked “{consent}” on “{form}”. Please confirm it by following this "
                       "link:\n\n{link}\n\nIf it was not you, ignore this email: without your confirmation we "
                       "will not send you anything.",
           "doi_button": "Confirm my subscription",
           "doi_confirmed": "Thank you: your subscription is confirmed.",
           "doi_already": "Your subscription was already confirmed.",
           "doi_invalid": "This confirmation link is not valid.",
           "doi_expired": "This confirmation link has expired. Please fill in the form again."},
    "es": {"submit": "Enviar", "required": "obligatorio", "optional": "opcional", "thanks": "¡Gracias!",
           "missing": "Rellena {label}.", "invalid_email": "Escribe un correo electrónico válido.",
           "choose": "Elige…", "download": "Descargar {name}", "error": "Algo ha fallado. Inténtalo de nuevo.",
           "sending": "Enviando…", "consent_missing": "Acepta la casilla de consentimiento.",
           "not_found": "Este formulario no existe o está cerrado.",
           "doi_subject": "Confirma tu suscripción",
           "doi_body": "Hola:\n\nHas marcado «{consent}» en «{form}». Confírmalo siguiendo este "
                       "enlace:\n\n{link}\n\nSi no has sido tú, ignora este correo: sin tu confirmación no te "
                       "enviaremos nada.",
           "doi_button": "Confirmar mi suscripción",
           "doi_confirmed": "Gracias: tu suscripción está confirmada.",
           "doi_already": "Tu suscripción ya estaba confirmada.",
           "doi_invalid": "Este enlace de confirmación no es válido.",
           "doi_expired": "Este enlace de confirmación ha caducado. Vuelve a rellenar el formulario."},
}


def field_label(field: dict, language: str) -> str:
    """The label shown for FIELD: its own, else the built-in one, else its key."""
    if field.get("label"):
        return field["label"]
    return FIELD_LABELS.get(language, FIELD_LABELS["en"]).get(field["type"], field["key"].replace("_", " ").capitalize())


def text(language: str, key: str, **values: str) -> str:
    return TEXTS.get(language, TEXTS["en"])[key].format(**values)
