"""``python -m popflow`` runs the command line."""

from popflow.cli import app

app()
