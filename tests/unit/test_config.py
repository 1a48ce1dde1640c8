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
    with pytest.raises(ValueError):
        load_config({"config_file": str(tmp_path / "x")}, environ={"SIFT_LEASE_TIMEOUT": "0"})
    assert load_config({"config_file": str(tmp_path / "x")},
                       environ={"SIFT_LEASE_TIMEOUT": "1.5"}).lease_timeout == 1.5


def test_secrets_are_masked() -> None:
    config = load_config({"master_key": "a-very-long-master-key"}, environ={})
    assert config.public()["master_key"] == "***"


def test_master_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "master-key"
    key_file.write_text("a-master-key-from-a-file\n")
    base = {"config_file": str(tmp_path / "x")}
    config = load_config({**base, "master_key_file": str(key_file)}, environ={})
    assert config.master_key == "a-master-key-from-a-file"
    env = {"SIFT_MASTER_KEY_FILE": str(key_file)}
    assert load_config(base, environ=env).master_key == "a-master-key-from-a-file"
    with pytest.raises(ValueError, match="not both"):
        load_config({**base, "master_key_file": str(key_file)},
                    environ={"SIFT_MASTER_KEY": "another-long-master-key"})  # fmt: skip
    with pytest.raises(ValueError, match="cannot read"):
        load_config({**base, "master_key_file": str(tmp_path / "absent")}, environ={})
    key_file.write_text("two\nlines-of-a-long-key\n")
    with pytest.raises(ValueError, match="one line"):
        load_config({**base, "master_key_file": str(key_file)}, environ={})
    key_file.write_text("short\n")
    with pytest.raises(ValueError, match="16 bytes"):
        load_config({**base, "master_key_file": str(key_file)}, environ={})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate_limit_per_address", "lots"),
        ("rate_limit_per_key", "10/fortnight"),
        ("rate_limit_auth_failures", "10/s, 100/m"),
        ("rate_limit_per_address", "10/s burst 0"),
        ("trusted_proxies", "proxy.internal"),
        ("trusted_proxies", "10.0.0.1/8"),  # host bits set: a typo for 10.0.0.0/8?
        ("cors_origins", "www.example.com"),
        ("cors_origins", "https://www.example.com/"),
    ],
)
def test_edge_settings_are_checked(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        load_config({name: value, "config_file": str(tmp_path / "x")}, environ={})


def test_edge_settings_accept_what_the_docs_show(tmp_path: Path) -> None:
    values = {
        "rate_limit_per_address": "100/s burst 200",
        "rate_limit_per_key": "off",
        "rate_limit_auth_failures": "20/m",
        "trusted_proxies": "10.0.0.0/8, 192.168.1.7, ::1",
        "cors_origins": "https://www.example.com,http://127.0.0.1:8080",
        "config_file": str(tmp_path / "x"),
    }
    assert load_config(values, environ={}).rate_limit_per_address == "100/s burst 200"
    values = {"trusted_proxies": "*", "config_file": str(tmp_path / "x")}
    assert load_config(values, environ={}).trusted_proxies == "*"


def test_settings_are_plain_attributes_with_the_same_values(tmp_path: Path) -> None:
    # Read on every request: found by the ordinary attribute lookup, not __getattr__
    # (docs/benchmarks/speed.md, "A search request's own work around the engine").
    config = load_config({"config_file": str(tmp_path / "x"), "master_key": "k" * 16},
                         environ={})  # fmt: skip
    for setting in SETTINGS:
        assert setting.name in vars(config)
        assert getattr(config, setting.name) == config.values[setting.name]
    assert config.resolved_database_url.startswith("sqlite:///")  # the class's own members
    assert callable(config.public)
    with pytest.raises(AttributeError):
        config.not_a_setting  # noqa: B018
