"""`authlib-core env`: the deployed functions' own variables in one SSM SecureString, against moto in-process."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.cli.main import main

if TYPE_CHECKING:
    from collections.abc import Iterator

PARAMETER = "/my-app/prod/env"
SECRET = "whsec-" + "q" * 30


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        boto3.setup_default_session()  # a fresh session per test: hooks registered below stay in this test
        yield boto3.client("ssm", region_name="us-east-1")
    boto3.DEFAULT_SESSION = None


def env(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["env", *args, "--parameter", PARAMETER])
    out, err = capsys.readouterr()
    return status, out, err


def stored(ssm: Any) -> tuple[dict[str, str], dict[str, Any]]:
    parameter = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    return json.loads(parameter["Value"]), parameter


def test_set_get_list_unset_round_trip(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = env(capsys, "set", "WEBHOOK_SECRET", SECRET)
    assert (status, out) == (0, "")
    assert "Set WEBHOOK_SECRET in /my-app/prod/env (version 1)" in err
    assert SECRET not in err
    assert env(capsys, "set", "FEATURE_FLAG", "on")[0] == 0
    values, parameter = stored(ssm)
    assert values == {"WEBHOOK_SECRET": SECRET, "FEATURE_FLAG": "on"}
    assert (parameter["Type"], parameter["Version"]) == ("SecureString", 2)
    assert env(capsys, "list") == (0, "FEATURE_FLAG\nWEBHOOK_SECRET\n", "")  # names only by default
    assert env(capsys, "list", "--values") == (0, f"FEATURE_FLAG=on\nWEBHOOK_SECRET={SECRET}\n", "")
    assert env(capsys, "get", "WEBHOOK_SECRET") == (0, SECRET + "\n", "")
    status, _, err = env(capsys, "unset", "FEATURE_FLAG")
    assert status == 0
    assert "Removed FEATURE_FLAG from /my-app/prod/env (version 3)" in err
    assert stored(ssm)[0] == {"WEBHOOK_SECRET": SECRET}
    status, out, err = env(capsys, "get", "FEATURE_FLAG")
    assert (status, out) == (1, "")
    assert "error: FEATURE_FLAG is not set in /my-app/prod/env" in err


def test_no_change_writes_nothing(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    env(capsys, "set", "A", "1")
    status, _, err = env(capsys, "set", "A", "1")
    assert status == 0
    assert "already has this value" in err
    status, _, err = env(capsys, "unset", "B")
    assert status == 0
    assert "B is not set in /my-app/prod/env; nothing written" in err
    assert stored(ssm)[1]["Version"] == 1


def test_a_value_from_stdin_stays_out_of_the_command_line(
    ssm: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("line one\nline two\n"))
    assert env(capsys, "set", "PEM")[0] == 0
    assert stored(ssm)[0] == {"PEM": "line one\nline two"}  # one trailing newline dropped, the inner one kept


def test_the_parameter_must_be_named(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["env", "set", "X", "1"])
    assert exited.value.code == 2
    assert "the following arguments are required: --parameter" in capsys.readouterr().err
    assert ssm.describe_parameters()["Parameters"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "AUTHLIB_SECRETS", SECRET], "'AUTHLIB_SECRETS' is reserved"),
        (["set", "AWS_SECRET_ACCESS_KEY", SECRET], "'AWS_SECRET_ACCESS_KEY' is reserved"),
        (["set", "bad-name", SECRET], "'bad-name' is not a usable environment variable name"),
        (["get", "PATH"], "'PATH' is reserved"),
        (["set", "BIG", "x" * 5000], "bytes, more than the 4096"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    ssm: Any, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = env(capsys, *args)
    assert status == 2
    assert message in err
    assert SECRET not in err
    assert ssm.describe_parameters()["Parameters"] == []


def test_a_bad_parameter_name_is_refused(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "list", "--parameter", "no-leading-slash"]) == 2
    assert "is not an SSM parameter name template.yaml accepts" in capsys.readouterr().err


def test_a_plain_string_parameter_or_bad_json_is_not_touched(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ssm.put_parameter(Name=PARAMETER, Value='{"A": "1"}', Type="String")
    status, _, err = env(capsys, "set", "B", "2")
    assert status == 2
    assert "is a String parameter, not a SecureString" in err
    ssm.put_parameter(Name="/other", Value=f"TOKEN={SECRET}", Type="SecureString")
    assert main(["env", "set", "B", "2", "--parameter", "/other"]) == 2
    err = capsys.readouterr().err
    assert "The SSM parameter '/other' is not JSON" in err
    assert SECRET not in err
    assert ssm.get_parameter(Name="/other", WithDecryption=True)["Parameter"]["Version"] == 1


def test_a_change_made_between_read_and_write_is_reported(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    env(capsys, "set", "A", "1")
    other = boto3.client("ssm", region_name="us-east-1")  # another operator, created before the hook

    def someone_else_writes(**_: Any) -> None:
        other.put_parameter(Name=PARAMETER, Value='{"A":"1","THEIRS":"x"}', Type="SecureString", Overwrite=True)

    boto3.DEFAULT_SESSION.events.register("before-call.ssm.PutParameter", someone_else_writes)  # type: ignore[union-attr]
    status, _, err = env(capsys, "set", "MINE", "2")
    assert status == 1
    assert "changed while this command ran (read version 1, wrote version 3)" in err
    assert "get-parameter-history --name /my-app/prod/env" in err


def test_creating_races_are_refused_not_overwritten(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    other = boto3.client("ssm", region_name="us-east-1")

    def someone_else_creates(**_: Any) -> None:
        other.put_parameter(Name=PARAMETER, Value='{"THEIRS":"x"}', Type="SecureString")

    boto3.DEFAULT_SESSION.events.register("before-call.ssm.PutParameter", someone_else_creates)  # type: ignore[union-attr]
    status, _, err = env(capsys, "set", "MINE", "2")
    assert status == 1
    assert "was created by someone else while this command ran" in err
    assert stored(ssm)[0] == {"THEIRS": "x"}


def test_aws_refusals_are_one_line(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3
    from botocore.exceptions import NoCredentialsError

    def no_credentials(**_: Any) -> None:
        raise NoCredentialsError

    boto3.DEFAULT_SESSION.events.register("before-call.ssm.GetParameter", no_credentials)  # type: ignore[union-attr]
    status, _, err = env(capsys, "list")
    assert status == 1
    assert err == "error: Could not reach SSM for '/my-app/prod/env': Unable to locate credentials\n"
