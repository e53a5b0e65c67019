"""Storage errors carry two wordings: the HTTP client's ("retry the request") and the terminal's, which says what
failed in the setup and what to set or check. The command line prints the second."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError

from authlib_core.cli.main import storage_error_text
from authlib_core.database.engines.dynamodb.errors import translate
from authlib_core.errors import StorageUnavailableError

DENIED = (
    "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: dynamodb:Query on resource: "
    "arn:aws:dynamodb:us-east-1:123456789012:table/x"
)


def client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Query")


@pytest.mark.parametrize(
    ("error", "starts"),
    [
        (NoCredentialsError(), "no AWS credentials were found, so DynamoDB could not be called: set AWS_PROFILE"),
        (client_error("AccessDeniedException", DENIED), "AWS denied the identity in use access to the table (Query of"),
        (client_error("UnrecognizedClientException"), "AWS did not accept the credentials in use (Unrecognized"),
        (client_error("ExpiredTokenException"), "AWS did not accept the credentials in use (ExpiredTokenException"),
        (client_error("ResourceNotFoundException"), "DynamoDB has no such table (Query of"),
        (ReadTimeoutError(endpoint_url="https://x"), "DynamoDB did not answer in time (Query of"),
        (client_error("SomethingNew"), "DynamoDB refused the request (SomethingNew, Query of"),
    ],
)
def test_a_setup_failure_reads_differently_on_a_terminal_and_over_http(error: Exception, starts: str) -> None:
    translated = translate(error, "Query of USER#1 in table 'x'")
    assert isinstance(translated, StorageUnavailableError)
    assert translated.message.endswith("Nothing was changed; retry the request.")  # the HTTP answer is unchanged
    text = storage_error_text(translated)
    assert text.startswith(starts)
    assert "retry the request" not in text
    assert "operator must" not in text
    assert text.endswith(f"({translated.detail})")  # the native error last, for the operator


def test_access_denied_names_the_profile_check_and_the_action_comes_from_the_detail() -> None:
    translated = translate(client_error("AccessDeniedException", DENIED), "Query of USER#1 in table 'x'")
    assert isinstance(translated, StorageUnavailableError)
    text = storage_error_text(translated)
    assert "aws sts get-caller-identity" in text
    assert "dynamodb:Query on resource" in text


def test_a_passing_failure_says_to_run_the_command_again() -> None:
    translated = translate(client_error("ThrottlingException"), "Query")
    assert isinstance(translated, StorageUnavailableError)
    assert translated.message.endswith("retry the request.")
    assert storage_error_text(translated).startswith(
        "The database is throttling or temporarily failing requests (ThrottlingException). Nothing was changed; run "
        "the command again in a moment. (DynamoDB Query: ThrottlingException: )"
    )
