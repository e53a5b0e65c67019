"""The scheduler's AWS wiring on moto, each function under the IAM role the expanded template gives it.

A job scheduled by a mutation (or by sign-up's ``on_user_created``) reaches the SQS queue at commit, the runner
consumes it (as the SQS event source mapping would hand it over) and runs it; the one-minute tick syncs the
crons of the deployed code, starts their runs, sends jobs of its window and resends overdue ones. Every DynamoDB
and SQS call is checked against the calling function's role (tests/sam/iam.py).
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.scheduler.aws import handle_messages, tick
from tests.sam.cfn_eval import Deployment
from tests.sam.lambda_stack import LambdaStack
from tests.scheduler.conftest import WORK, write_app

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.sam

RUNNER = "SchedulerRunFunction"
TICK = "SchedulerTickFunction"


@pytest.fixture
def deployment(expanded: dict[str, Any]) -> Deployment:
    return Deployment(expanded)


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def make_stack(deployment: Deployment, sqs: Any, overrides: dict[str, str]) -> LambdaStack:
    import boto3

    from authlib_core.database.engines.dynamodb import create_tables

    stack = LambdaStack(deployment, overrides=overrides, job_queues=True)
    create_tables(boto3.client("dynamodb", region_name="us-east-1"), stack.table_names())
    for queue in ("JobQueue", "JobDeadLetterQueue"):
        sqs.create_queue(QueueName=deployment.resource_name(queue))
    return stack


def queue_url(stack: LambdaStack) -> str:
    return stack.environment(RUNNER)["AUTHLIB_JOB_QUEUE_URL"]


def receive(stack: LambdaStack, sqs: Any) -> list[dict[str, Any]]:
    """What the event source mapping would hand the runner now (the messages whose delay is over)."""
    answer = sqs.receive_message(QueueUrl=queue_url(stack), MaxNumberOfMessages=10, AttributeNames=["All"])
    return answer.get("Messages", [])


def deliver(stack: LambdaStack, sqs: Any) -> tuple[list[str], dict[str, Any]]:
    """Receive, run through the runner under its role, delete what succeeded; returns the job ids and the answer."""
    messages = receive(stack, sqs)
    records = [{"messageId": m["MessageId"], "body": m["Body"], "receiptHandle": m["ReceiptHandle"]} for m in messages]
    answer = handle_messages(stack.runtime(RUNNER), stack.job_queue(RUNNER), records)
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url(stack), ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"])["jobId"] for m in messages], answer


def no_denials(stack: LambdaStack) -> None:
    for function, policy in stack.policies.items():
        denied = [(action, resource) for action, resource, ok in policy.decisions if not ok]
        assert not denied, f"{function} was refused {denied}"
        assert policy.decisions, f"{function} made no call"


def job(stack: LambdaStack, job_id: str) -> dict[str, Any]:
    found = stack.runtime(RUNNER).database.run_query(lambda r: r.system.get(job_id))
    assert found is not None
    return found


def test_sign_up_schedules_the_welcome_which_the_runner_sends(deployment: Deployment, sqs: Any, tmp_path: Path) -> None:
    stack = make_stack(deployment, sqs, {"AUTHLIB_MAIL": "folder", "AUTHLIB_MAIL_DIR": str(tmp_path / "mail")})
    response = stack.invoke(
        "POST", "/api/auth/sign-up/email", {"email": "ada@example.com", "password": "x" * 16, "name": "Ada"}
    )
    assert response["statusCode"] == 200, response
    (message,) = receive(stack, sqs)  # sent by the auth function right after the sign-up committed
    assert int(message["Attributes"]["ApproximateReceiveCount"]) == 1
    sqs.change_message_visibility(
        QueueUrl=queue_url(stack), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    (job_id,), answer = deliver(stack, sqs)
    assert answer == {"batchItemFailures": []}
    assert job(stack, job_id)["state"] == {"kind": "success"}
    (mail,) = (tmp_path / "mail").glob("*.eml")
    assert "Subject: Welcome to myData" in mail.read_text()
    assert deliver(stack, sqs)[0] == []  # consumed
    # A duplicate delivery (SQS is at-least-once) changes nothing.
    stack.job_queue(RUNNER).send([(job_id, 0.0)], now_ms=0.0)
    assert deliver(stack, sqs) == ([job_id], {"batchItemFailures": []})
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    no_denials(stack)
    assert {fn for _, _, fn in stack.served} == {"AuthFunction"}


CRONS = """
from authlib_core import cron_jobs

crons = cron_jobs()
crons.interval("every 30 s", {"seconds": 30}, "work:record", {"label": "cron"})
"""


@pytest.fixture
def jobs_stack(deployment: Deployment, sqs: Any, tmp_path: Path) -> LambdaStack:
    folder = tmp_path / "awsjobs"
    write_app(folder, crons=textwrap.dedent(CRONS))
    (folder / "work.py").write_text(textwrap.dedent(WORK))
    return make_stack(deployment, sqs, {"AUTHLIB_FUNCTIONS_DIR": str(folder)})


def mutation(stack: LambdaStack, path: str, args: dict[str, Any]) -> Any:
    status, body = stack.call("POST", "/api/mutation", {"path": path, "args": args, "format": "json"})
    assert (status, body["status"]) == (200, "success"), body
    return body["value"]


def runs(stack: LambdaStack) -> list[str]:
    return sorted(doc["label"] for doc in stack.runtime(RUNNER).database.run_query(lambda r: r.query("runs").collect()))


def test_the_tick_starts_crons_and_a_finished_run_queues_the_next(jobs_stack: LambdaStack, sqs: Any) -> None:
    report = tick(jobs_stack.runtime(TICK), jobs_stack.job_queue(TICK))
    assert report["cronsChanged"] == ["every 30 s"]
    assert report["cronsStarted"] == ["every 30 s"]
    assert report["sent"] == 0  # the run's job went to the queue as it committed, not in the tick's batch
    (first,), _ = deliver(jobs_stack, sqs)
    assert job(jobs_stack, first)["state"] == {"kind": "success"}
    assert runs(jobs_stack) == ["cron"]
    # The run's end created the next run (30 s later) and sent it with a delay: nothing to receive yet.
    pending = jobs_stack.runtime(RUNNER).database.run_query(
        lambda r: (
            r.system.query("_scheduled_functions").filter(lambda q: q.eq(q.field("state.kind"), "pending")).collect()
        )
    )
    (following,) = pending
    assert following["scheduledTime"] == job(jobs_stack, first)["scheduledTime"] + 30_000
    assert receive(jobs_stack, sqs) == []
    # A second tick in the same minute neither syncs nor starts anything again.
    again = tick(jobs_stack.runtime(TICK), jobs_stack.job_queue(TICK))
    assert (again["cronsChanged"], again["cronsStarted"]) == ([], [])
    no_denials(jobs_stack)


def cron_job_id(stack: LambdaStack) -> str:
    (cron,) = stack.runtime(RUNNER).database.run_query(lambda r: r.system.query("_cron_jobs").collect())
    return str(cron["lastJob"])


def test_a_far_job_is_sent_by_the_tick_of_its_window_and_not_at_commit(jobs_stack: LambdaStack, sqs: Any) -> None:
    now = time.time() * 1000
    far = mutation(jobs_stack, "work:at", {"label": "far", "when": now + 10 * 60_000})
    assert receive(jobs_stack, sqs) == []  # due in 10 minutes: the commit did not send it
    tick_runtime = jobs_stack.runtime(TICK)
    tick(tick_runtime, jobs_stack.job_queue(TICK))
    cron_run = cron_job_id(jobs_stack)
    assert [json.loads(m["Body"])["jobId"] for m in receive(jobs_stack, sqs)] == [cron_run]  # not the far job
    sqs.purge_queue(QueueUrl=queue_url(jobs_stack))  # the cron run's message is lost
    # The tick 8.5 minutes later: the far job (due 1.5 minutes after it) is in its window [+1 min, +2 min).
    tick_runtime.database._clock = lambda: time.time() + 8.5 * 60
    report = tick(tick_runtime, jobs_stack.job_queue(TICK))
    assert (report["sent"], report["overdue"]) == (2, 1)  # the far job, and the lost cron run (now overdue)
    assert [json.loads(m["Body"])["jobId"] for m in receive(jobs_stack, sqs)] == [cron_run]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url(jobs_stack), AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # the far job, delayed by the time left
    assert job(jobs_stack, far)["state"] == {"kind": "pending"}
    no_denials(jobs_stack)


def test_the_tick_resends_an_overdue_job_whose_message_was_lost(jobs_stack: LambdaStack, sqs: Any) -> None:
    late = mutation(jobs_stack, "work:at", {"label": "lost", "when": time.time() * 1000 - 5 * 60_000})
    sqs.purge_queue(QueueUrl=queue_url(jobs_stack))  # the message sent at commit is lost
    report = tick(jobs_stack.runtime(TICK), jobs_stack.job_queue(TICK))
    assert report["overdue"] == 1
    delivered, _ = deliver(jobs_stack, sqs)
    assert late in delivered
    assert job(jobs_stack, late)["state"] == {"kind": "success"}
    assert "lost" in runs(jobs_stack)
    no_denials(jobs_stack)


BULK = """
from authlib_core import internal_mutation, mutation

@internal_mutation
def noop(ctx):
    return None

@mutation
def schedule_and_cancel(ctx, count: float):
    for _ in range(int(count)):
        ctx.scheduler.cancel(ctx.scheduler.run_after(3600, noop))
"""


def test_the_tick_deletes_finished_jobs_past_their_retention_a_bounded_batch_per_tick(
    jobs_stack: LambdaStack, sqs: Any
) -> None:
    folder = jobs_stack.environment(TICK)["AUTHLIB_FUNCTIONS_DIR"]
    (Path(folder) / "bulk.py").write_text(textwrap.dedent(BULK))
    done = mutation(jobs_stack, "work:later", {"label": "done", "delay": 0})
    assert deliver(jobs_stack, sqs)[0] == [done]
    far = mutation(jobs_stack, "work:at", {"label": "far", "when": time.time() * 1000 + 30 * 86_400_000})
    for _ in range(10):  # 100 canceled jobs: the backlog of a busy week
        mutation(jobs_stack, "bulk:schedule_and_cancel", {"count": 10})
    tick_runtime = jobs_stack.runtime(TICK)
    first = tick(tick_runtime, jobs_stack.job_queue(TICK), sweep_max_jobs=40)
    assert first["deleted"] == 0  # nothing is a week old yet (the default retention: 7 days)
    tick_runtime.database._clock = lambda: time.time() + 7 * 86_400 + 60  # a week and a minute later
    # An invocation with less than the tick's reserve left skips the sweep (the next tick does it).
    assert tick(tick_runtime, jobs_stack.job_queue(TICK), time_left_s=lambda: 9.0)["deleted"] is None
    deleted = []
    for _ in range(5):
        deleted.append(tick(tick_runtime, jobs_stack.job_queue(TICK), sweep_max_jobs=40)["deleted"])
    assert deleted == [40, 40, 21, 0, 0]  # 101 finished jobs (the delivered one too), 40 per tick at most
    left = tick_runtime.database.run_query(lambda r: r.system.query("_scheduled_functions").collect())
    assert sorted(j["_id"] for j in left if j["name"] != "work:record" or j["_id"] == far) == [far]
    assert all(j["state"]["kind"] == "pending" for j in left)  # the far job and the cron's next run: kept
    no_denials(jobs_stack)
