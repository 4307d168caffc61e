"""`leadflow demo`: migrate, seed the demo workspace, start the server."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        leads: int = typer.Option(3000, "--leads", min=0, help="How many leads to generate."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the server afterwards."),
        seed: int = typer.Option(42, help="Random seed (same seed, same workspace)."),
    ) -> None:
        """Create the database, seed a realistic demo workspace and start the server."""
        from leadflow.cli_support import fail

        fail("the demo generator is not built yet")
