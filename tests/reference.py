"""Independent plain-pandas computations of the indicator definitions (SPEC §3).

Written from the definitions in words, without popflow's SQL, to check it.
"""

from __future__ import annotations

import pandas as pd

from scenario import CELL_AREA, LEVELS, TIMEZONE


def local_events(events: pd.DataFrame, tz: str = TIMEZONE) -> pd.DataFrame:
    """person, local naive time, area."""
    ts = pd.to_datetime(events["timestamp"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    return pd.DataFrame({"person": events["subscriber_id"].values, "local": ts.values,
                         "area": events["cell_id"].map(CELL_AREA).values})


def modal(df: pd.DataFrame, slot: str) -> pd.DataFrame:
    """Per person and slot: most events, then latest event, then smaller area."""
    g = df.groupby(["person", slot, "area"]).agg(n=("local", "size"), last=("local", "max")).reset_index()
    g = g.sort_values(["person", slot, "n", "last", "area"], ascending=[True, True, False, False, True])
    return g.drop_duplicates(["person", slot])[["person", slot, "area", "n"]]


def bin_locations(ev: pd.DataFrame, bin_minutes: int = 60) -> pd.DataFrame:
    ev = ev.assign(bin=ev["local"].dt.floor(f"{bin_minutes}min"))
    return modal(ev, "bin")


def presence(ev: pd.DataFrame, bin_minutes: int = 60, carry_hours: int = 0) -> pd.DataFrame:
    """person, bin, area — observed bins plus carried ones."""
    obs = bin_locations(ev, bin_minutes)
    rows = [obs[["person", "bin", "area"]]]
    if carry_hours:
        step = pd.Timedelta(minutes=bin_minutes)
        extra = []
        for person, group in obs.sort_values("bin").groupby("person"):
            bins = list(group["bin"])
            areas = list(group["area"])
            for i, start in enumerate(bins):
                nxt = bins[i + 1] if i + 1 < len(bins) else None
                b = start + step
                while b - start <= pd.Timedelta(hours=carry_hours) and (nxt is None or b < nxt):
                    extra.append((person, b, areas[i]))
                    b += step
        rows.append(pd.DataFrame(extra, columns=["person", "bin", "area"]))
    return pd.concat(rows, ignore_index=True)


def present_population(ev, first, last, level="district", bin_minutes=60, carry_hours=0) -> pd.DataFrame:
    p = presence(ev, bin_minutes, carry_hours)
    p = p[(p["bin"].dt.date >= first) & (p["bin"].dt.date <= last)]
    p = p.assign(area_id=p["area"].map(LEVELS[level]))
    return p.groupby(["bin", "area_id"])["person"].nunique().rename("people").reset_index()


def night_locations(ev: pd.DataFrame) -> pd.DataFrame:
    hour = ev["local"].dt.hour
    night = ev[(hour >= 22) | (hour < 6)]
    night = night.assign(night=(night["local"] - pd.Timedelta(hours=22)).dt.date)
    return modal(night, "night"), night


def day_locations(ev: pd.DataFrame) -> pd.DataFrame:
    hour = ev["local"].dt.hour
    day = ev[(hour >= 9) & (hour < 17) & (ev["local"].dt.day_of_week < 5)]
    day = day.assign(day=day["local"].dt.date)
    return modal(day, "day"), day


def usual(locations: pd.DataFrame, window: pd.DataFrame, slot: str, first, last, minimum=3) -> pd.DataFrame:
    loc = locations[(locations[slot] >= first) & (locations[slot] <= last)]
    loc = loc.assign(period=pd.to_datetime(loc[slot]).dt.strftime("%Y-%m"))
    counts = loc.groupby(["person", "period", "area"]).size().rename("slots").reset_index()
    win = window[(window[slot] >= first) & (window[slot] <= last)]
    win = win.assign(period=pd.to_datetime(win[slot]).dt.strftime("%Y-%m"))
    evn = win.groupby(["person", "period", "area"]).size().rename("events").reset_index()
    m = counts.merge(evn, how="left", on=["person", "period", "area"]).fillna({"events": 0})
    m = m.sort_values(["person", "period", "slots", "events", "area"], ascending=[True, True, False, False, True])
    top = m.drop_duplicates(["person", "period"])
    return top[top["slots"] >= minimum][["person", "period", "area"]]


def homes(ev, first, last, minimum=3):
    loc, window = night_locations(ev)
    return usual(loc, window, "night", first, last, minimum)


def works(ev, first, last, minimum=3):
    loc, window = day_locations(ev)
    return usual(loc, window, "day", first, last, minimum)


def residents(ev, first, last, level="district", minimum=3) -> pd.DataFrame:
    h = homes(ev, first, last, minimum)
    h = h.assign(area_id=h["area"].map(LEVELS[level]))
    return h.groupby(["period", "area_id"])["person"].nunique().rename("people").reset_index()


def workers(ev, first, last, minimum=3) -> pd.DataFrame:
    m = works(ev, first, last, minimum).merge(homes(ev, first, last, minimum), on=["person", "period"],
                                               suffixes=("_work", "_home"))
    m = m.rename(columns={"area_work": "work_area_id", "area_home": "home_area_id"})
    return m.groupby(["period", "work_area_id", "home_area_id"])["person"].nunique().rename("people").reset_index()


def od_flows(ev, first, last, level="district", bin_minutes=60, dominance=0.5) -> pd.DataFrame:
    obs = bin_locations(ev, bin_minutes)
    obs = obs.assign(area=obs["area"].map(LEVELS[level]), date=obs["bin"].dt.date).sort_values(["person", "bin"])
    obs["previous"] = obs.groupby(["person", "date"])["area"].shift()
    trips = obs[obs["previous"].notna() & (obs["previous"] != obs["area"])]
    trips = trips[(trips["date"] >= first) & (trips["date"] <= last)]
    per_person = trips.groupby(["date", "previous", "area", "person"]).size().rename("n").reset_index()
    cells = (per_person.groupby(["date", "previous", "area"])
             .agg(trips=("n", "sum"), travellers=("person", "nunique"), largest=("n", "max")).reset_index()
             .rename(columns={"previous": "origin", "area": "destination"}))
    # Dominance rule: a magnitude is withheld when one person gives more than half of it.
    cells["trips"] = cells["trips"].where(cells["largest"] <= dominance * cells["trips"])
    return cells.drop(columns="largest")


def migration(ev, first, last, minimum=3):
    h = homes(ev, first, last, minimum)
    periods = sorted(h["period"].unique())
    moves, arrivals = [], []
    for a, b in zip(periods, periods[1:], strict=False):
        ha = h[h["period"] == a].set_index("person")["area"]
        hb = h[h["period"] == b].set_index("person")["area"]
        both = ha.index.intersection(hb.index)
        for person in both:
            if ha[person] != hb[person]:
                moves.append((a, b, ha[person], hb[person], person))
        for person in hb.index.difference(ha.index):
            arrivals.append((a, b, hb[person], person))
    moves = pd.DataFrame(moves, columns=["period_from", "period_to", "from_area", "to_area", "person"])
    arrivals = pd.DataFrame(arrivals, columns=["period_from", "period_to", "to_area", "person"])
    return moves, arrivals
