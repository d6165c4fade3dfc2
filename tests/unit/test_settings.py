from __future__ import annotations

from pathlib import Path

import pytest

from gctune.measure.collector import setting_from_id
from gctune.measure.settings import (
    FULL_GRID,
    QUICK_GRID,
    Setting,
    SettingError,
    canonical_id,
    grid_from_toml,
    parse_setting,
    parse_settings,
    with_references,
)


@pytest.mark.parametrize(
    ("text", "setting_id"),
    [
        ("default", "default"),
        ("disabled", "disabled"),
        ("freeze", "default+freeze"),
        ("default+freeze", "default+freeze"),
        ("disabled+freeze", "disabled+freeze"),
        ("50000", "t50000-10-10"),
        ("50000,20", "t50000-20-10"),
        ("t50000", "t50000-10-10"),  # an id of results written before ids were full
        ("50000,20,100", "t50000-20-100"),
        ("50000, 20, 100 + freeze", "t50000-20-100+freeze"),
        ("t50000-20-100+freeze", "t50000-20-100+freeze"),
        (" DEFAULT ", "default"),
    ],
)
def test_parse_setting_ids(text: str, setting_id: str) -> None:
    assert parse_setting(text).id == setting_id


def test_id_and_spec_round_trip() -> None:
    for text in ("default", "disabled+freeze", "700,10,10", "9000+freeze", "1,2"):
        setting = parse_setting(text)
        assert parse_setting(setting.id) == setting
        assert parse_setting(setting.spec) == setting


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "negative"),
        ("700,-1,10", "negative"),
        ("1.5", "GC threshold '1.5' in '1.5' is not a whole number"),
        ("700,1.5", "not a whole number"),
        ("700,10,10,10", "4 thresholds"),
        ("fast", "unknown GC setting"),
        ("default+thaw", "modifier"),
        ("0", "disabled"),
        ("0,10,10", "disabled"),
        ("", "empty"),
    ],
)
def test_invalid_settings_say_why(text: str, message: str) -> None:
    with pytest.raises(SettingError, match=message):
        parse_setting(text)


def test_parse_settings_drops_repeats_keeps_order() -> None:
    ids = [s.id for s in parse_settings(["700", "disabled", "t700", "700,10,10", "default"])]
    assert ids == ["t700-10-10", "disabled", "default"]


def test_references_always_first() -> None:
    ids = [s.id for s in with_references(parse_settings(["7000", "disabled"]))]
    assert ids == ["default", "disabled", "t7000-10-10"]


def test_one_setting_has_one_spelling() -> None:
    # missing threshold1/threshold2 are 10, as every supported CPython starts
    short, full = parse_setting("50000"), parse_setting("50000,10,10")
    assert short == full and short.thresholds == (50000, 10, 10)
    assert short.id == full.id == "t50000-10-10" and short.spec == "50000,10,10"
    assert Setting("thresholds", (50000,)) == full
    assert parse_setting("50000,20+freeze").id == "t50000-20-10+freeze"
    assert canonical_id("t50000") == "t50000-10-10" and canonical_id("t50000+freeze") == (
        "t50000-10-10+freeze"
    )
    assert canonical_id("default") == "default" and canonical_id("hand-made") == "hand-made"


def test_probe_reads_short_ids_as_the_full_setting() -> None:
    assert setting_from_id("t50000") == ("thresholds", (50000, 10, 10), False)
    assert setting_from_id("t50000-20+freeze") == ("thresholds", (50000, 20, 10), True)
    assert setting_from_id("t50000-20-100") == ("thresholds", (50000, 20, 100), False)


def test_builtin_grids_parse() -> None:
    for grid in (QUICK_GRID, FULL_GRID):
        settings = parse_settings(list(grid))
        assert len(settings) == len(grid)
        assert Setting("default") in settings and Setting("disabled") in settings


def test_grid_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(
        'settings = ["freeze"]\n[grid]\nthreshold0 = [1000, 2000]\nthreshold1 = [10]\n'
        "freeze = [false, true]\n"
    )
    ids = [s.id for s in grid_from_toml(path)]
    assert ids == [
        "default+freeze",
        "t1000-10-10",
        "t1000-10-10+freeze",
        "t2000-10-10",
        "t2000-10-10+freeze",
    ]


def test_grid_from_toml_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('settings = ["default"]\n[grid\n')
    with pytest.raises(SettingError, match=r"bad\.toml.*line 2"):
        grid_from_toml(path)
    path.write_text('settings = ["700,x"]\n')
    with pytest.raises(SettingError, match=r"bad\.toml.*not a whole number"):
        grid_from_toml(path)
    path.write_text("[grid]\nthreshold9 = [1]\n")
    with pytest.raises(SettingError, match="threshold9"):
        grid_from_toml(path)
    with pytest.raises(SettingError, match="does not exist"):
        grid_from_toml(tmp_path / "missing.toml")
