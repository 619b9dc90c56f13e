"""Disclosure control: every released table passes one of these mechanisms (SPEC §4).

A mechanism turns an indicator's person-level contributions (one row per person
per cell) into publishable cells:

- ``cells_sql(contribution, contributions)``: SQL aggregating the contributions
  into cells, run on the engine (DP mode bounds each person's cells here);
- ``publish(engine, contribution, cells, domains)``: the published Arrow table
  and what was suppressed or how much noise was added;
- ``describe()``: its parameters for the manifest and the audit log.
"""

from popflow.disclosure.k_anonymity import KAnonymity

__all__ = ["KAnonymity"]
