"""popflow: aggregate, privacy-safe population and mobility statistics.

The Python API mirrors the command line::

    import popflow
    ws = popflow.Workspace.init("ws", timezone="Asia/Shanghai")
    ws.ingest("areas", ["areas.geojson"])
    table = ws.run("present-population", out="presence.parquet")
"""

from popflow.workspace import Workspace

__version__ = "0.1.0"
__all__ = ["Workspace", "__version__"]
