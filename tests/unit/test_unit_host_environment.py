"""The deploy host's environment file: atmobeta's, with [target] and the urls only."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rehearsal.host_environment import ATMOBETA, host_environment_toml

URLS = {"atmosphere": "http://127.0.0.1:40001", "troposphere": "http://127.0.0.1:40002"}


def test_only_target_and_the_urls_change() -> None:
    ours = tomllib.loads(host_environment_toml(URLS, 40000, "alias-x", "run-x"))
    atmobeta = tomllib.loads(ATMOBETA.read_text())
    assert ours.pop("target") == {
        "ssh": "root@127.0.0.1",
        "port": 40000,
        "identity_file": "id_ed25519",
        "known_hosts": "known_hosts",
        "host_key_alias": "alias-x",
    }
    for app, url in URLS.items():
        assert ours["services"][app].pop("url") == url
        atmobeta["services"][app].pop("url")
    assert ours == atmobeta


def test_a_source_without_a_url_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "env.toml"
    source.write_text('[services.atmosphere]\nimage = "x"\n')
    with pytest.raises(ValueError, match="no url for atmosphere"):
        host_environment_toml({"atmosphere": "http://x"}, 1, "a", "r", source)
