"""Independent plain-pandas computations of the indicator definitions (SPEC §3).

Written from the definitions in words, without popflow's SQL, to check it.
"""

from __future__ import annotations

import datetime
import itertools

import pandas as pd

from popflow.indicators.stays import LINK_WITHIN, LINKED_DAYS, MIN_STAY, RETURN_WITHIN

from scenario import CELL_AREA, LEVELS, TIMEZONE

MAX_GAP = 12 * 3600  # --max-gap's default


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
    """--method observed."""
    return count_present(presence(ev, bin_minutes, carry_hours), first, last, level)


def present_population_from_stays(ev, first, last, level="district", bin_minutes=60, max_gap=MAX_GAP):
    """--method stays."""
    return count_present(stay_presence(ev, bin_minutes, max_gap), first, last, level)


def count_present(p: pd.DataFrame, first, last, level: str) -> pd.DataFrame:
    p = p[(p["bin"].dt.date >= first) & (p["bin"].dt.date <= last)]
    p = p.assign(area_id=p["area"].map(LEVELS[level]))
    return p.groupby(["bin", "area_id"])["person"].nunique().rename("people").reset_index()


def epoch_seconds(local: pd.Series) -> pd.Series:
    """Local naive times as local epoch seconds."""
    return (local - pd.Timestamp(0)) // pd.Timedelta(seconds=1)


def from_epoch(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(0) + pd.Timedelta(seconds=int(seconds))


def timeline(events: list[tuple[int, str]], max_gap: int = MAX_GAP) -> list[tuple[str, int, int, int, int]]:
    """One person's stays ``(area, first event, last event, start, end)`` from ``(t, area)`` events, step by step
    as the stays definition says it in words."""
    events = sorted(events)
    placed = [piece for episode in episodes(leaned(runs(events, max_gap), leanings(events), max_gap), max_gap)
              for piece in placed_in(episode)]
    pieces = joined(placed, max_gap)
    kept = [(area, first, last) for area, first, last, start, end in timed(pieces, max_gap) if end - start >= MIN_STAY]
    return timed(kept, max_gap)


def runs(events: list[tuple[int, str]], max_gap: int) -> list[list]:
    """[area, first, last, events] of consecutive events in one area without a silence over max_gap."""
    out = []
    for t, area in events:
        if out and out[-1][0] == area and t - out[-1][2] <= max_gap:
            out[-1][2] = t
            out[-1][3] += 1
        else:
            out.append([area, t, t, 1])
    return out


def leanings(events: list[tuple[int, str]]) -> dict[str, str]:
    """Each area that leans, with the area it leans on: of the areas linked to it (alternated with, both ways
    within LINK_WITHIN, on at least LINKED_DAYS days) with more events than it and at least as many night
    events (22:00 to 06:00), the one with the most events (then the smaller)."""
    ways: dict[tuple[str, str], set[int]] = {}  # (from, to) -> days with such a change
    for (t0, a0), (t1, a1) in itertools.pairwise(events):
        if a0 != a1 and t1 - t0 <= LINK_WITHIN:
            ways.setdefault((a0, a1), set()).add(t1 // 86400)
    linked = {(a, b) for a, b in ways if len(ways[(a, b)] & ways.get((b, a), set())) >= LINKED_DAYS}
    seen: dict[str, int] = {}
    nights: dict[str, int] = {}
    for t, area in events:
        seen[area] = seen.get(area, 0) + 1
        nights[area] = nights.get(area, 0) + (t % 86400 >= 22 * 3600 or t % 86400 < 6 * 3600)
    out = {}
    for area in seen:
        more = sorted((-seen[b], b) for a, b in linked
                      if a == area and seen[b] > seen[area] and nights[b] >= nights[area])
        if more:
            out[area] = more[0][1]
    return out


def leaned(runs_: list[list], leaning: dict[str, str], max_gap: int) -> list[list]:
    """Runs in the areas they lean on; consecutive runs then in one area at most max_gap apart as one."""
    out: list[list] = []
    for area, first, last, count in runs_:
        area = leaning.get(area, area)
        if out and out[-1][0] == area and first - out[-1][2] <= max_gap:
            out[-1][2] = last
            out[-1][3] += count
        else:
            out.append([area, first, last, count])
    return out


def episodes(runs_: list[list], max_gap: int) -> list[list[list]]:
    """Runs grouped by the returns spanning them (a run returning to the run two or three before it)."""
    spans = [(s - back, s) for s in range(len(runs_)) for back in (2, 3)
             if s >= back and returns(runs_, s, back, max_gap)]
    out = []
    for j, run in enumerate(runs_):
        if any(p < j <= s for p, s in spans):
            out[-1].append(run)
        else:
            out.append([run])
    return out


def returns(runs_: list[list], s: int, back: int, max_gap: int) -> bool:
    """Run s is in the area of run s - back, and was away from it at most RETURN_WITHIN, or at most max_gap
    when the runs between are a single event (one second)."""
    away = runs_[s][1] - runs_[s - back][2]
    single = runs_[s - 1][2] == runs_[s - back + 1][1]
    return runs_[s][0] == runs_[s - back][0] and (away <= RETURN_WITHIN or (away <= max_gap and single))


def placed_in(episode: list[list]) -> list[tuple[str, int, int]]:
    """An episode in the area holding most of its events outside its last run (ties: the area met first); its
    last run apart when in another area with at least as many events as that area holds."""
    if len(episode) == 1:
        area, first, last, _ = episode[0]
        return [(area, first, last)]
    *before, closing = episode
    tally: dict[str, int] = {}
    for run in before:  # dicts keep the order areas are met in
        tally[run[0]] = tally.get(run[0], 0) + run[3]
    area = max(tally, key=lambda a: tally[a])  # max keeps the first of equal counts
    if closing[0] != area and closing[3] >= tally[area]:
        return [(area, episode[0][1], before[-1][2]), (closing[0], closing[1], closing[2])]
    return [(area, episode[0][1], closing[2])]


def joined(pieces: list[tuple[str, int, int]], max_gap: int) -> list[tuple[str, int, int]]:
    """Consecutive pieces of one area at most max_gap apart as one."""
    out: list[tuple[str, int, int]] = []
    for area, first, last in pieces:
        if out and out[-1][0] == area and first - out[-1][2] <= max_gap:
            out[-1] = (area, out[-1][1], last)
        else:
            out.append((area, first, last))
    return out


def timed(pieces: list[tuple[str, int, int]], max_gap: int) -> list[tuple[str, int, int, int, int]]:
    """Pieces with where each starts and ends: neighbours at most max_gap apart meet inside the silence (see
    meeting); otherwise each reaches max_gap // 2 into it."""
    out = []
    for i, (area, first, last) in enumerate(pieces):
        before = pieces[i - 1][2] if i > 0 else None
        after = pieces[i + 1][1] if i + 1 < len(pieces) else None
        start = meeting(before, first) if before is not None and first - before <= max_gap else first - max_gap // 2
        end = meeting(last, after) if after is not None and after - last <= max_gap else last + max_gap // 2
        out.append((area, first, last, start, end))
    return out


def waking_seconds(a: int, b: int) -> int:
    """Seconds of [a, b) outside the nights (22:00 to 06:00 local)."""
    day = 86400
    return sum(max(0, min(b, d * day + 22 * 3600) - max(a, d * day + 6 * 3600)) for d in range(a // day, b // day + 1))


def meeting(last: int, after: int) -> int:
    """The moment a silence from ``last`` to ``after`` is split at: walking forward from ``last``, the latest
    moment after half its waking seconds (rounded down), skipping a night reached on the way; never after
    ``after``."""
    day, m, remaining = 86400, last, waking_seconds(last, after) // 2
    while True:
        second = m % day
        if second >= 22 * 3600 or second < 6 * 3600:  # in a night: go to its end
            m += (day if second >= 22 * 3600 else 0) - second + 6 * 3600
            continue
        room = 22 * 3600 - second  # waking seconds left before the night
        if remaining < room:
            return min(after, m + remaining)
        m, remaining = m + room, remaining - room


def stays(ev: pd.DataFrame, max_gap: int = MAX_GAP) -> pd.DataFrame:
    """person, area, first, last, start, end (local epoch seconds)."""
    ev = ev.assign(t=epoch_seconds(ev["local"]))
    rows = [(person, *stay) for person, group in ev.groupby("person")
            for stay in timeline(list(zip(group["t"], group["area"], strict=True)), max_gap)]
    return pd.DataFrame(rows, columns=["person", "area", "first", "last", "start", "end"])


def stay_presence(ev: pd.DataFrame, bin_minutes: int = 60, max_gap: int = MAX_GAP) -> pd.DataFrame:
    """person, bin, area: the stay holding each bin's middle second."""
    step, rows = bin_minutes * 60, []
    for person, area, _, _, start, end in stays(ev, max_gap).itertuples(index=False):
        b = -(-(start - step // 2) // step) * step
        while b + step // 2 < end:
            rows.append((person, from_epoch(b), area))
            b += step
    return pd.DataFrame(rows, columns=["person", "bin", "area"])


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
    """--method observed."""
    obs = bin_locations(ev, bin_minutes)
    obs = obs.assign(area=obs["area"].map(LEVELS[level]), date=obs["bin"].dt.date).sort_values(["person", "bin"])
    obs["previous"] = obs.groupby(["person", "date"])["area"].shift()
    return od_cells(obs[obs["previous"].notna() & (obs["previous"] != obs["area"])], first, last, dominance)


def od_flows_from_stays(ev, first, last, level="district", max_gap=MAX_GAP, dominance=0.5) -> pd.DataFrame:
    """--method stays."""
    return od_cells(trips_from_stays(ev, level, max_gap), first, last, dominance)


def trips_from_stays(ev, level="district", max_gap=MAX_GAP) -> pd.DataFrame:
    """person, date, previous, area: moves between consecutive stays in different areas, dated by the later
    stay's start."""
    s = stays(ev, max_gap).sort_values(["person", "start"])
    s = s.assign(area=s["area"].map(LEVELS[level]),
                 date=[datetime.date(1970, 1, 1) + datetime.timedelta(days=int(t // 86400)) for t in s["start"]])
    s["previous"] = s.groupby("person")["area"].shift()
    return s[s["previous"].notna() & (s["previous"] != s["area"])]


def od_cells(trips: pd.DataFrame, first, last, dominance: float) -> pd.DataFrame:
    """Trips (person, date, previous, area) counted per date, origin and destination."""
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
