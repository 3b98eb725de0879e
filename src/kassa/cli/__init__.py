"""The kassa command line (Typer)."""
