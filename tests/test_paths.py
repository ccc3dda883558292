"""Where the kit finds its bundled files and puts its caches and reports, clone or installed."""

from pathlib import Path

import pytest

from review.errors import ConfigError
from review.settings import config as cfg
from review.settings.config import load_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as a wheel in site-packages does: no checkout around the package."""
    monkeypatch.setattr(cfg, "checkout", lambda: None)


def test_a_clone_uses_its_own_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEW_CACHE_DIR", raising=False)
    assert cfg.checkout() == ROOT
    assert cfg.sample_snapshot() == ROOT / "data" / "sample"
    assert cfg.templates_dir() == ROOT / "notebooks"
    assert cfg.cache_dir() == ROOT / "data" / "cache"
    assert load_config(None).gaps.registry == ROOT / "data" / "services.yaml"
    assert load_config(None).paths.reports == Path("reports")


def test_installed_kit_caches_in_the_user_cache_dir(
    installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REVIEW_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cfg.cache_dir() == tmp_path / "xdg" / "rt-incident-review"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cfg.cache_dir() == tmp_path / "home" / ".cache" / "rt-incident-review"


def test_installed_kit_takes_the_working_directorys_registry_else_the_example(
    installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    example = load_config(None).gaps.registry
    assert example.parts[-2:] == ("data", "services.yaml")
    assert not example.is_relative_to(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "services.yaml").write_text("services: []\n")
    assert load_config(None).gaps.registry == tmp_path / "data" / "services.yaml"


def test_installed_kit_has_no_scenarios(installed: None) -> None:
    with pytest.raises(ConfigError, match="clone of the repository"):
        cfg.source_dir("data/scenarios")


def test_paths_set_in_a_config_file_are_taken_from_its_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REVIEW_CACHE_DIR", raising=False)
    site = tmp_path / "site"
    site.mkdir()
    (site / "review.toml").write_text(
        '[paths]\ncache = "cache"\nreports = "/srv/www/reports"\n[gaps]\nregistry = "svc.yaml"\n'
    )
    config = load_config(site / "review.toml")
    assert config.paths.cache == site / "cache"
    assert cfg.cache_dir(config) == site / "cache"
    assert config.paths.reports == Path("/srv/www/reports")
    assert config.gaps.registry == site / "svc.yaml"
    monkeypatch.setenv("REVIEW_CACHE_DIR", str(tmp_path / "env"))
    assert cfg.cache_dir(config) == tmp_path / "env"


def test_a_config_file_that_sets_no_paths_keeps_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REVIEW_CACHE_DIR", raising=False)
    (tmp_path / "review.toml").write_text("[gaps]\ndaily_update_hours = 12\n")
    config = load_config(tmp_path / "review.toml")
    assert config.gaps.registry == ROOT / "data" / "services.yaml"
    assert cfg.cache_dir(config) == ROOT / "data" / "cache"
    assert config.paths.reports == Path("reports")
