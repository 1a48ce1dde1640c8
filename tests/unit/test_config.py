from pathlib import Path

import pytest

from sift.config import SETTINGS, load_config

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting) -> None:
    text = DOCS.read_text()
    assert f"`{setting.flag}`" in text and f"`{setting.env}`" in text


def test_precedence_flags_over_env_over_file_over_default(tmp_path: Path) -> None:
    toml = tmp_path / "sift.toml"
    toml.write_text('port = 1111\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    env = {"SIFT_PORT": "2222", "SIFT_HOST": "10.0.0.1"}
    config = load_config({"port": 3333, "config_file": str(toml)}, environ=env)
    assert config.port == 3333  # flag
    assert config.host == "10.0.0.1"  # environment
    assert config.log_level == "debug"  # file
    assert config.workers == 1  # default


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_config({"config_file": str(tmp_path / "x")}, environ={"SIFT_WORKERS": "many"})
    with pytest.raises(ValueError):
        load_config({"master_key": "short", "config_file": str(tmp_path / "x")}, environ={})
    with pytest.raises(ValueError):
        load_config({"index_defaults": "elastic", "config_file": str(tmp_path / "x")},
                    environ={})


def test_secrets_are_masked() -> None:
    config = load_config({"master_key": "a-very-long-master-key"}, environ={})
    assert config.public()["master_key"] == "***"
