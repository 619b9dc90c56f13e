"""An example third-party popflow indicator package (``night-owls``), registered by an entry point."""
