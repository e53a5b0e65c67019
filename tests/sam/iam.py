"""IAM, enforced in tests: every DynamoDB call must be allowed by the role the expanded template gives a function.

moto enforces no IAM, so a code path that needs an action its function's role lacks passes every test and fails
on AWS (``AccessDeniedException``). :func:`enforce` closes that gap: a botocore ``before-parameter-build`` hook on
a client checks each DynamoDB call against a :class:`RolePolicy` read from the *expanded* template (what
CloudFormation would create) and raises the ``ClientError`` AWS would, before moto sees the call.

What a call needs (DynamoDB's IAM model; transactions have no action of their own):

* ``GetItem``, ``PutItem``, ``UpdateItem``, ``DeleteItem``, ``DescribeTable``: ``dynamodb:<Op>`` on the table;
* ``Query`` / ``Scan``: ``dynamodb:<Op>`` on the table, or on ``table/<name>/index/<index>`` with ``IndexName``;
* ``BatchGetItem`` / ``BatchWriteItem``: ``dynamodb:<Op>`` on every table named in ``RequestItems``;
* ``TransactWriteItems``: per item ``PutItem`` / ``UpdateItem`` / ``DeleteItem`` / ``ConditionCheckItem`` on its
  table; ``TransactGetItems``: ``GetItem`` per item ("Using IAM with DynamoDB transactions", DynamoDB developer
  guide).

Any other operation is refused as unknown, so a new call cannot slip past unchecked. A statement's ``Condition`` may
use ``StringEquals`` only (every key must be in the request context with exactly that value, as IAM does); any other
operator, ``NotAction`` or ``NotResource`` raises: the evaluator does not model them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.sam.cfn_eval import Deployment

#: Managed policies whose statements grant nothing on DynamoDB (what SAM attaches for logs).
NO_DYNAMODB_MANAGED = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


@dataclass
class RolePolicy:
    """The identity-based statements of one function's role, resolved for a deployment."""

    function: str
    statements: list[dict[str, Any]]
    decisions: list[tuple[str, str, bool]] = field(default_factory=list)

    @classmethod
    def of_function(cls, deployment: Deployment, function: str) -> RolePolicy:
        """The policy of ``function``'s role in the expanded template (its inline policies; managed ones checked)."""
        resources = deployment.template["Resources"]
        role_ref = resources[function]["Properties"]["Role"]
        role_id = role_ref["Fn::GetAtt"][0]
        role = deployment.resource(role_id)["Properties"]
        managed = set(role.get("ManagedPolicyArns", []))
        unknown = {
            arn for arn in managed if arn.replace(f"arn:{deployment.partition}:", "arn:aws:") not in NO_DYNAMODB_MANAGED
        }
        if unknown:
            raise AssertionError(f"{role_id} has managed policies this evaluator cannot see into: {sorted(unknown)}")
        statements: list[dict[str, Any]] = []
        for policy in role.get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
                unsupported |= set(statement.get("Condition", {})) - {"StringEquals"}
                if unsupported:
                    raise AssertionError(f"{role_id}: the evaluator does not model {sorted(unsupported)}")
                statements.append(statement)
        return cls(function, statements)

    def allows(self, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        """IAM's rule for one identity policy: an explicit Deny wins, else any Allow, else implicitly denied.

        ``context`` holds the request's condition keys (``kms:ViaService``, ...); a statement whose ``StringEquals``
        names a key the context lacks, or holds another value, does not apply.
        """
        allowed = False
        for statement in self.statements:
            if not any(_matches(a, action, case_sensitive=False) for a in _as_list(statement["Action"])):
                continue
            if not any(_matches(r, resource, case_sensitive=True) for r in _as_list(statement["Resource"])):
                continue
            required = statement.get("Condition", {}).get("StringEquals", {})
            if any((context or {}).get(key) not in _as_list(value) for key, value in required.items()):
                continue
            if statement["Effect"] == "Deny":
                return False
            allowed = allowed or statement["Effect"] == "Allow"
        return allowed

    def actions_on(self, resource: str) -> set[str]:
        """Every DynamoDB action some Allow statement grants on ``resource`` (for assertions)."""
        found: set[str] = set()
        for statement in self.statements:
            if statement["Effect"] == "Allow" and any(
                _matches(r, resource, case_sensitive=True) for r in _as_list(statement["Resource"])
            ):
                found |= {a for a in _as_list(statement["Action"]) if a.lower().startswith("dynamodb:")}
        return found


_SIMPLE = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "DescribeTimeToLive"}
_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def required(operation: str, params: dict[str, Any], table_arn: Any) -> list[tuple[str, str]]:
    """``(action, resource ARN)`` pairs DynamoDB authorises for one call; ``table_arn(name)`` makes a table's ARN."""
    if operation in _SIMPLE:
        return [(f"dynamodb:{operation}", table_arn(params["TableName"]))]
    if operation in ("Query", "Scan"):
        arn = table_arn(params["TableName"])
        if params.get("IndexName"):
            arn = f"{arn}/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", arn)]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table_arn(name)) for name in params["RequestItems"]]
    if operation == "TransactWriteItems":
        needs = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            needs.append((f"dynamodb:{_TRANSACT_WRITE[kind]}", table_arn(body["TableName"])))
        return needs
    if operation == "TransactGetItems":
        return [("dynamodb:GetItem", table_arn(item["Get"]["TableName"])) for item in params["TransactItems"]]
    return [(f"dynamodb:{operation}", "*unknown-operation*")]


def access_denied(function: str, action: str, resource: str, operation: str) -> ClientError:
    """The error AWS returns when an identity policy does not allow ``action`` (same code, same shape)."""
    message = (
        f"User: arn:aws:sts::123456789012:assumed-role/{function}Role/{function} is not authorized to perform: "
        f"{action} on resource: {resource} because no identity-based policy allows the {action} action"
    )
    return ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )


def decide(role: RolePolicy, needs: list[tuple[str, str]], operation: str) -> None:
    """Record and apply the role's decision on each ``(action, resource)``; raise AWS's error on the first refusal."""
    for action, resource in needs:
        allowed = role.allows(action, resource)
        role.decisions.append((action, resource, allowed))
        if not allowed:
            raise access_denied(role.function, action, resource, operation)


def enforce(client: Any, policy: RolePolicy | Callable[[], RolePolicy], deployment: Deployment) -> Any:
    """Make ``client`` refuse every DynamoDB call the policy does not allow, as AWS would. Returns ``client``.

    ``policy`` may be a callable returning the policy in force for the current call (one process serving the
    routes of several functions, as the built-artifact test does).
    """

    def table_arn(name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:{deployment.partition}:dynamodb:{deployment.region}:{deployment.account}:table/{name}"

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        role = policy() if callable(policy) else policy
        decide(role, required(model.name, params, table_arn), model.name)

    client.meta.events.register("before-parameter-build.dynamodb", check, unique_id="iam-enforce")
    return client


def enforce_ses(client: Any, policy: RolePolicy, deployment: Deployment) -> Any:
    """Make an SES v2 ``client`` refuse a ``SendEmail`` the policy does not allow, as AWS would. Returns ``client``.

    AWS authorises ``ses:SendEmail`` on the sending identity (the deployment's ``MailIdentity``) and, when the call
    names one, on the configuration set.
    """
    prefix = f"arn:{deployment.partition}:ses:{deployment.region}:{deployment.account}"

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        needs = [("ses:SendEmail", f"{prefix}:identity/{deployment.parameter('MailIdentity')}")]
        if params.get("ConfigurationSetName"):
            needs.append(("ses:SendEmail", f"{prefix}:configuration-set/{params['ConfigurationSetName']}"))
        if model.name != "SendEmail":
            needs = [(f"ses:{model.name}", "*unknown-operation*")]
        decide(policy, needs, model.name)

    client.meta.events.register("before-parameter-build.sesv2", check, unique_id="iam-enforce-ses")
    return client


def enforce_sqs(client: Any, policy: RolePolicy, deployment: Deployment) -> Any:
    """Make an SQS ``client`` refuse calls the policy does not allow, as AWS would. Returns ``client``.

    ``SendMessageBatch`` is authorised as ``sqs:SendMessage`` (and ``DeleteMessageBatch`` as ``sqs:DeleteMessage``)
    on the queue's ARN, which follows from its URL (``https://sqs.<region>.<suffix>/<account>/<name>``).
    """
    as_action = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        account, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
        arn = f"arn:{deployment.partition}:sqs:{deployment.region}:{account}:{name}"
        decide(policy, [(f"sqs:{as_action.get(model.name, model.name)}", arn)], model.name)

    client.meta.events.register("before-parameter-build.sqs", check, unique_id="iam-enforce-sqs")
    return client


def denied_in_chain(error: BaseException | None) -> ClientError | None:
    """The ``AccessDeniedException`` behind ``error`` (itself, or its cause/context), else None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == "AccessDeniedException":
            return error
        error = error.__cause__ or error.__context__
    return None
