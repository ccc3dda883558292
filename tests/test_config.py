"""Config: documented defaults, and errors that name the key and what is allowed."""

from pathlib import Path

import pytest

from review.errors import ConfigError
from review.settings.config import load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "review.toml"
    path.write_text(text)
    return path


def refusal(path: Path | None) -> str:
    """The one line load_config refuses a file with (None: the file REVIEW_CONFIG names)."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_defaults_fit_the_process() -> None:
    config = load_config()
    assert config.queues.ops == ("ops-help",)
    assert config.statuses.inactive == ("resolved", "rejected", "deleted")
    assert config.calendar.timezone == "America/New_York"
    assert (config.calendar.start.hour, config.calendar.end.hour) == (9, 17)
    assert config.fields.validated_by == "Validated By"


def test_a_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[queues]\ndeveloper = ["apps"]\n[calendar]\nstart = "08:30"\n')
    )
    assert config.queues.developer == ("apps",)
    assert config.queues.ops == ("ops-help",)
    assert (config.calendar.start.hour, config.calendar.start.minute) == (8, 30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[queue]\nops = []\n", "unknown section [queue]; allowed: [queues]"),
        ("[queues]\nopz = ['a']\n", "unknown key queues.opz; allowed in [queues]: ops, developer"),
        ("[queues]\nops = 'ops-help'\n", "queues.ops must be a list of strings, got 'ops-help'"),
        ("[calendar]\nstart = '9am'\n", "calendar.start must be a time like 09:00, got '9am'"),
        (
            "[calendar]\ntimezone = 'Mars/Base'\n",
            "calendar.timezone 'Mars/Base' is not a known IANA zone",
        ),
        ("[calendar]\nworkdays = ['Funday']\n", "calendar.workdays has ['Funday']; allowed: Mon"),
        (
            "[calendar]\nholidays_subdivision = 'ZZ'\n",
            "calendar.holidays_subdivision 'ZZ' is not a subdivision",
        ),
        (
            "[queues]\ndeveloper = ['ops-help']\n",
            "queues ['ops-help'] are listed both in queues.ops and",
        ),
        ("[rt]\ntimeout = 'soon'\n", "rt.timeout must be a number, got 'soon'"),
        ("[queues\n", "not valid TOML"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    refused = refusal(path)
    assert message in refused
    assert str(path) in refused


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found; check the path"):
        load_config(tmp_path / "nope.toml")


def test_missing_file_named_by_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "nope.toml"))
    refused = refusal(None)
    assert refused == (
        f"{tmp_path / 'nope.toml'}: config file not found; REVIEW_CONFIG names it: "
        "correct or unset REVIEW_CONFIG to use the defaults"
    )
    assert "--config" not in refused


def test_environment_variable_points_at_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CONFIG", str(write(tmp_path, "[statuses]\ninactive = ['done']\n")))
    assert load_config().statuses.inactive == ("done", "deleted")  # RT's deleted: always


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rt]\ntimeout = -1\n", "rt.timeout must be more than 0 and at most 3600 seconds, got -1"),
        ("[rt]\ntimeout = 0\n", "rt.timeout must be more than 0 and at most 3600 seconds, got 0"),
        ("[rt]\ntimeout = nan\n", "rt.timeout must be a finite number, got nan"),
        (
            "[gaps]\nregistry_review_days = inf\n",
            "gaps.registry_review_days must be a finite number, got inf",
        ),
        (
            "[gaps]\nregistry_review_days = 1e300\n",
            "gaps.registry_review_days must be more than 0 and at most 36500 days",
        ),
        (
            "[gaps]\nregistry_review_days = 99999999999999999999999\n",
            "gaps.registry_review_days must be more than 0 and at most 36500 days",
        ),
        (
            "[gaps]\nregistry_review_days = 30.5\n",
            "gaps.registry_review_days must be a whole number of days, got 30.5",
        ),
        (
            "[gaps]\ndaily_update_hours = -inf\n",
            "gaps.daily_update_hours must be a finite number, got -inf",
        ),
    ],
)
def test_numbers_must_be_finite_and_in_range(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    refused = refusal(path)
    assert refused.startswith(f"{path}: {message}")


def test_a_config_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "review.toml"
    path.write_bytes('[fields]\n\nservice = "Servicé"\n'.encode("latin-1"))
    refused = refusal(path)
    assert refused == f"{path}: line 3: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_the_lifecycle_has_every_status_in_one_role() -> None:
    statuses = load_config().statuses
    assert statuses.known == ("new", "open", "stalled", "resolved", "rejected", "deleted")
    assert statuses.rejected == ("rejected",)
    assert load_config().check.strict is False


def test_a_file_that_moves_a_status_takes_it_out_of_the_default_role(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[statuses]\ninactive = ['done', 'stalled']\n"))
    assert config.statuses.active == ("open",)
    assert config.statuses.rejected == ()  # 'rejected' is no longer a closed status
    assert load_config(write(tmp_path, "[check]\nstrict = true\n")).check.strict is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[statuses]\nactive = ['open', 'done']\ninactive = ['done']\n",
            "status 'done' is both statuses.active and statuses.inactive; keep it in one",
        ),
        (
            "[statuses]\nrejected = ['dropped']\n",
            "statuses.rejected names 'dropped', which is not in statuses.inactive "
            "(resolved, rejected, deleted); a rejected ticket is a closed one",
        ),
        ("[check]\nstrict = 'yes'\n", "check.strict must be true or false, got 'yes'"),
    ],
)
def test_a_lifecycle_that_contradicts_itself_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    refused = refusal(write(tmp_path, text))
    assert message in refused


@pytest.mark.parametrize(
    "url", ["https://root:Hunter2-Secret@rt.example.edu/", "https://root@rt.example.edu/"]
)
def test_a_password_in_the_rt_url_is_refused_without_showing_it(tmp_path: Path, url: str) -> None:
    """Credentials come only from the environment. Before, user:password@ in [rt] url was
    dropped without a word, and the password stayed in a file others may read."""
    path = write(tmp_path, f'[rt]\nurl = "{url}"\n')
    refused = refusal(path)
    assert refused == (
        f"{path}: rt.url holds a user name or password (user:password@): the kit never reads "
        "one from a file: take it out of the file and set RT_TOKEN, or RT_USER and RT_PASSWORD, "
        "in the environment"
    )
    path = write(tmp_path, f'[followups]\nreports_url = "{url}reports/"\n')
    refused = refusal(path)
    assert refused == (
        f"{path}: followups.reports_url holds a user name or password (user:password@): take "
        "it out: the follow-ups' links to the reviews, which everyone in RT reads, carry it"
    )
    assert load_config(write(tmp_path, '[rt]\nurl = "https://rt.example.edu/"\n')).rt.url
    path = write(tmp_path, '[rt]\nurl = "https://root:Hunter2-Secret@[::1"\n')
    refused = refusal(path)  # was a ValueError traceback
    assert refused == f"{path}: rt.url must be an http(s) address such as https://rt.example.edu/"
