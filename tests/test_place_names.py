"""Names for codes: the optional ``regions`` source and country names."""

from __future__ import annotations

import json

from popflow.place_names import country_name, country_names, is_country_code, region_names

import scenario


def test_regions_are_ingested_with_bad_rows_quarantined(small_ws, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("code,name,parent\n440000,Guangdong,\n440100, Guangzhou ,440000\n110000,Beijing,\n"
                    "440300,Shenzhen,999999\n,Nameless,\n440000,Again,\n")
    report = small_ws.ingest("regions", [path])
    assert report["rows"] == {"read": 6, "accepted": 3, "quarantined": 3}
    assert report["quarantined_by_reason"] == {"duplicate_key": 1, "invalid_value": 1, "missing_field": 1}
    assert region_names(small_ws.connect()) == {"110000": "Beijing", "440000": "Guangdong", "440100": "Guangzhou"}
    quarantined = scenario.quarantined(small_ws, "regions")
    assert list(zip(quarantined.index, quarantined["reason"], quarantined["column"], strict=True)) == [
        (5, "invalid_value", "parent"), (6, "missing_field", "code"), (7, "duplicate_key", "code")]
    record = quarantined.loc[5, "record"]
    assert "Shenzhen" not in record and json.loads(record)["name"].startswith("hmac:")
    assert small_ws.ingest("regions", [path])["files_already_ingested"] == [str(path)]


def test_no_regions_means_no_names(small_ws):
    assert region_names(small_ws.connect()) == {}


def test_country_names_from_iso_codes():
    assert country_name("FR") == "France" and country_name("TW") == "Taiwan" and country_name("ZZ") == "ZZ"
    assert is_country_code("jp") and not is_country_code("440000")
    assert len(country_names()) > 240 and country_names()["DE"] == "Germany"
