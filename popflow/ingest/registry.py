"""The input sources popflow can ingest, by name."""

from popflow.ingest import areas, cells, events, fx, holidays, population, regions, sales, subscribers, tickets

SOURCES = {spec.name: spec for spec in (
    areas.SOURCE, cells.SOURCE, subscribers.SOURCE, events.SOURCE, population.SOURCE,
    tickets.SOURCE, sales.SOURCE, fx.SOURCE, holidays.SOURCE, regions.SOURCE,
)}
