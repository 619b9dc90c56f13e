"""``python -m popflow.service serve|token …``: the service commands without the main CLI."""

import click

from popflow.cli import Cli
from popflow.service.commands import serve, token


@click.group(cls=Cli)
def main():
    """popflow service commands."""


main.add_command(serve)
main.add_command(token)

if __name__ == "__main__":
    main()
