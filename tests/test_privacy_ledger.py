"""The privacy ledger is the keyed audit log: one budget per person-month, and tampering is detected."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib

import pytest
import tomli_w

import popflow
from popflow import audit
from popflow.errors import PopflowError


@pytest.fixture
def ws(every_source_workspace, tmp_path):
    shutil.copytree(every_source_workspace.path, tmp_path / "ws")
    return popflow.Workspace(tmp_path / "ws")


def log(ws):
    return ws.path / "audit.jsonl"


def test_sources_share_one_budget_per_person_month(ws):
    ws.run("present-population", privacy="dp", epsilon=6.0)  # events of January and February
    with pytest.raises(PopflowError, match="privacy budget exceeded: 2026-0[12]"):
        ws.run("sales-penetration", privacy="dp", epsilon=5.0)  # sales and events of the same months
    ws.run("sales-penetration", privacy="dp", epsilon=4.0)
    assert {r["month"]: r["epsilon_remaining"] for r in ws.budget().rows()}["2026-01"] == pytest.approx(0)


def set_setting(ws, name: str, value) -> popflow.Workspace:
    path = ws.path / "popflow.toml"
    path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), name: value}))
    return popflow.Workspace(ws.path)


def test_delta_has_its_own_budget(ws):
    ws.run("workers", privacy="dp", epsilon=0.1, delta=6e-7)
    with pytest.raises(PopflowError, match="δ=6e-07 of 1e-06"):
        ws.run("workers", privacy="dp", epsilon=0.1, delta=6e-7)
    set_setting(ws, "delta_budget", 2e-6).run("workers", privacy="dp", epsilon=0.1, delta=6e-7)


def test_the_ledger_is_the_audit_log_so_no_file_resets_it(ws):
    ws.run("workers", privacy="dp", epsilon=3.0)
    spent = ws.budget().rows()
    for name in ("budget.json", ".budget.lock"):
        (ws.path / name).unlink(missing_ok=True)
    assert ws.budget().rows() == spent and spent[0]["epsilon_spent"] == 3.0


def test_a_charge_is_part_of_its_audit_line_and_the_manifest_pins_the_head(ws, tmp_path):
    release = ws.run("workers", privacy="dp", epsilon=1.0, out=tmp_path / "w.csv")
    last = audit.read(log(ws))[-1]
    assert last["release"] == release.manifest["release_id"]
    assert last["charge"] == {"months": ["2026-01", "2026-02"], "epsilon": 1.0, "delta": 1e-7}
    assert release.manifest["audit_head"] == audit.head(log(ws))
    written = json.loads((tmp_path / "w.csv.manifest.json").read_text())
    assert written["audit_head"] == release.manifest["audit_head"]


def rechain_with_sha256(lines: list[str]) -> list[str]:
    """What an attacker without the key can do: recompute an unkeyed chain and head."""
    previous, out = "0" * 64, []
    for line in lines:
        record = json.loads(line)
        record["previous"] = previous
        text = json.dumps(record, sort_keys=True)
        out.append(text)
        previous = hashlib.sha256(text.encode()).hexdigest()
    return out


@pytest.mark.parametrize("attack", ["drop dp lines and re-hash", "lower a charge and re-hash", "delete the head",
                                    "truncate and rewrite the head"])
def test_tampering_is_detected_and_refuses_dp_until_restored(ws, attack):
    for _ in range(3):
        ws.run("workers", privacy="dp", epsilon=1.0)
    ws.run("residents")
    original = {p: p.read_text() for p in (log(ws), log(ws).with_suffix(".head"))}
    lines = log(ws).read_text().splitlines()
    if attack == "drop dp lines and re-hash":
        kept = rechain_with_sha256([line for line in lines if '"charge"' not in line])
        log(ws).write_text("\n".join(kept) + "\n")
        log(ws).with_suffix(".head").write_text(json.dumps(
            {"lines": len(kept), "last": hashlib.sha256(kept[-1].encode()).hexdigest()}))
    elif attack == "lower a charge and re-hash":
        log(ws).write_text("\n".join(rechain_with_sha256(
            [line.replace('"epsilon": 1.0}', '"epsilon": -5.0}') for line in lines])) + "\n")
    elif attack == "delete the head":
        log(ws).with_suffix(".head").unlink()
    else:
        log(ws).write_text("\n".join(lines[:-2]) + "\n")
        head = json.loads(log(ws).with_suffix(".head").read_text())
        log(ws).with_suffix(".head").write_text(json.dumps({**head, "lines": len(lines) - 2}))
    assert audit.verify(log(ws))[1] is not None
    with pytest.raises(PopflowError, match="audit log broken"):
        ws.run("workers", privacy="dp", epsilon=0.5)
    for path, text in original.items():
        path.write_text(text)
    assert audit.verify(log(ws))[1] is None
    ws.run("workers", privacy="dp", epsilon=0.5)


def test_default_privacy_applies_to_a_release_naming_none(ws):
    ws = set_setting(ws, "default_privacy", "dp")
    with pytest.raises(PopflowError, match="--privacy dp needs --epsilon"):
        ws.run("workers")
    assert ws.run("workers", epsilon=0.5).manifest["privacy"]["mode"] == "dp"
    assert ws.run("workers", privacy="k").manifest["privacy"]["mode"] == "k"
