"""The `leadflow` command line."""

from __future__ import annotations

import typer

from leadflow import __version__
from leadflow.cli_support import console, ensure_database, fail, print_json

app = typer.Typer(help="leadflow: self-hosted lead generation and lead qualification.",
                  no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users of the web UI.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def _register_domain_apps() -> None:
    from leadflow.campaigns.cli import app as campaigns_app
    from leadflow.capture.cli import forms_app, submissions_app
    from leadflow.demo.cli import register as register_demo
    from leadflow.kpi.cli import app as kpi_app
    from leadflow.leads.cli import app as leads_app
    from leadflow.lifecycle.cli import register as register_lifecycle
    from leadflow.predict.cli import app as predict_app
    from leadflow.scoring.cli import app as score_app

    app.add_typer(leads_app, name="leads")
    app.add_typer(campaigns_app, name="campaigns")
    app.add_typer(forms_app, name="forms")
    app.add_typer(submissions_app, name="submissions")
    register_demo(app)
    register_lifecycle(leads_app)
    app.add_typer(score_app, name="score")
    app.add_typer(predict_app, name="predict")
    app.add_typer(kpi_app, name="kpi")


def _print_version(value: bool) -> None:
    if value:
        console.print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    # Eager, so `leadflow --version` answers before Click asks for a command.
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """leadflow: self-hosted lead generation and lead qualification."""
    from leadflow.predict.hooks import install as install_predict
    from leadflow.scoring.hooks import install as install_scoring

    # Prices first: scoring's stage thresholds may read the probability.
    install_predict()
    install_scoring()


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to bind (default LEADFLOW_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default LEADFLOW_PORT or 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    migrate: bool = typer.Option(True, help="Apply migrations before starting."),
) -> None:
    """Start the web server (UI, API at /api/v1, OpenAPI at /docs)."""
    import uvicorn

    from leadflow.config import get_settings

    settings = get_settings()
    if migrate:
        ensure_database()
    uvicorn.run("leadflow.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                workers=workers, log_level="info", proxy_headers=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations and seed default rows (idempotent)."""
    from leadflow.config import get_settings
    from leadflow.db.migrate import upgrade
    from leadflow.db.session import get_engine

    upgrade(get_engine(), revision)
    url = get_settings().resolved_database_url
    console.print(f"[green]database at {revision}[/] ({url.split('@')[-1]})")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert migrations down to REVISION."""
    from leadflow.db.migrate import downgrade
    from leadflow.db.session import get_engine

    downgrade(get_engine(), revision)
    console.print(f"[yellow]database at {revision}[/]")


@user_app.command("create")
def user_create(
    email: str = typer.Option(..., prompt=True, help="Login email."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="At least 8 characters."),
    name: str = typer.Option("", help="Display name."),
    role: str = typer.Option("admin", help="admin, marketing or sales."),
    as_json: bool = typer.Option(False, "--json", help="Print the user as JSON."),
) -> None:
    """Create a user who can log in to the web UI."""
    from leadflow.auth.service import AuthError, create_user
    from leadflow.db.session import unit_of_work

    ensure_database()
    try:
        with unit_of_work() as s:
            user = create_user(s, email=email, password=password, name=name, role=role)
            out = {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
    except AuthError as exc:
        fail(f"{exc.field}: {exc}")
    if as_json:
        print_json(out)
    else:
        console.print(f"[green]created user[/] {out['email']} (id {out['id']}, {out['role']})")


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users."""
    from rich.table import Table

    from leadflow.auth.service import list_users
    from leadflow.db.session import unit_of_work

    ensure_database()
    with unit_of_work() as s:
        rows = [{"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.is_active}
                for u in list_users(s)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "email", "name", "role", "active")
    for r in rows:
        table.add_row(str(r["id"]), r["email"], r["name"], r["role"], "yes" if r["active"] else "no")
    console.print(table)


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., "--user", help="Email of the user the token acts as."),
    name: str = typer.Option("cli", help="What the token is for."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    from leadflow.auth.service import AuthError, create_token, get_user_by_email
    from leadflow.db.session import unit_of_work

    ensure_database()
    with unit_of_work() as s:
        owner = get_user_by_email(s, email=user)
        if owner is None:
            fail(f"--user: no user with email {user}")
        try:
            token, plain = create_token(s, user=owner, name=name)
        except AuthError as exc:
            fail(f"--{exc.field}: {exc}")
        out = {"id": token.id, "name": token.name, "user": owner.email, "token": plain}
    if as_json:
        print_json(out)
    else:
        console.print(f"[green]token created for {out['user']}[/] — copy it now, it is not shown again:")
        print(plain)


@token_app.command("list")
def token_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List API tokens (never their secret)."""
    from rich.table import Table

    from leadflow.auth.service import list_tokens
    from leadflow.db.session import unit_of_work

    ensure_database()
    with unit_of_work() as s:
        rows = [{"id": t.id, "name": t.name, "prefix": t.prefix, "user_id": t.user_id, "created_at": t.created_at,
                 "last_used_at": t.last_used_at, "revoked": t.revoked_at is not None} for t in list_tokens(s)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "prefix", "user", "created", "last used", "revoked")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["prefix"] + "…", str(r["user_id"]), str(r["created_at"])[:16],
                      str(r["last_used_at"] or "")[:16], "yes" if r["revoked"] else "")
    console.print(table)


_register_domain_apps()


def main() -> None:
    app()
