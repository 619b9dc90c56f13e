"""``python -m popflow.live stream …`` / ``replay …``: live mode without the main CLI."""

import click

from popflow.cli import Cli
from popflow.live.commands import replay_command, stream


@click.group(cls=Cli)
def main():
    """popflow live mode."""


main.add_command(stream)
main.add_command(replay_command)

if __name__ == "__main__":
    main()
