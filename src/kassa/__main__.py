"""``python -m kassa`` runs the command line."""

from kassa.cli.main import main

main()
