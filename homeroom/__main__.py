"""``python -m homeroom`` runs the command line."""

from homeroom.cli import main

main()
