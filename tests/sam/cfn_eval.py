"""Evaluate the intrinsic functions of an expanded (plain CloudFormation) template for one deployment.

The SAM translator leaves ``Ref``, ``Fn::Sub``, ``Fn::FindInMap``, ``Fn::If`` ... in its output; CloudFormation
resolves them at deploy time. To test what a deployment in a given region, with given parameters, really gets
(the layer ARN, the IAM resources a role allows), :class:`Deployment` resolves them the way CloudFormation does:

* ``Ref`` to a parameter: the override, else the parameter's default; to a pseudo parameter: the deployment's
  region, account, partition, stack name; to a table or log group: its physical name; ``AWS::NoValue`` removes
  the key or list item;
* ``Fn::GetAtt [X, Arn]`` of a DynamoDB table, log group or SQS queue: the ARN CloudFormation documents for it
  (``Ref`` of a queue: its URL);
* ``Fn::Sub`` (both forms), ``Fn::FindInMap``, ``Fn::If`` with the template's ``Conditions`` (``Fn::Equals``,
  ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``), ``Fn::Split``, ``Fn::Join``, ``Fn::Select``.

Anything else raises: an evaluator that guessed would let a template error through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NO_VALUE = object()
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")
_FUNCTION_IN_URI = re.compile(r"\$\{(\w+)\.Arn\}")


class UnsupportedIntrinsic(Exception):
    """The template uses something this evaluator does not model."""


@dataclass
class Deployment:
    """One deployment of ``template``: region, account, stack name and parameter overrides."""

    template: dict[str, Any]
    region: str = "us-east-1"
    account: str = "123456789012"
    stack_name: str = "authlib-core-prod"
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    # --------------------------------------------------------------------------------------------- values

    def parameter(self, name: str) -> Any:
        spec = self.template["Parameters"][name]
        value = self.parameters.get(name, spec.get("Default"))
        if value is None:
            raise UnsupportedIntrinsic(f"parameter {name} has no value and no default")
        allowed = spec.get("AllowedValues")
        if allowed is not None and str(value) not in [str(a) for a in allowed]:
            raise ValueError(f"{name}={value!r} is not one of {allowed}")
        return str(value)

    def condition(self, name: str) -> bool:
        return bool(self._condition(self.template["Conditions"][name]))

    def _condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(x) for x in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._condition(arg[0])
            if key == "Fn::And":
                return all(self._condition(x) for x in arg)
            if key == "Fn::Or":
                return any(self._condition(x) for x in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(node)

    def resource_name(self, logical_id: str) -> str:
        resource = self.template["Resources"][logical_id]
        props = resource.get("Properties", {})
        for key in ("TableName", "LogGroupName", "FunctionName", "QueueName"):
            if key in props:
                return str(self.resolve(props[key]))
        return logical_id  # CloudFormation would generate one; tests only compare it with itself

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        name = self.resource_name(logical_id)
        prefix = f"arn:{self.partition}"
        if (kind, attribute) == ("AWS::DynamoDB::Table", "Arn"):
            return f"{prefix}:dynamodb:{self.region}:{self.account}:table/{name}"
        if (kind, attribute) == ("AWS::Logs::LogGroup", "Arn"):
            return f"{prefix}:logs:{self.region}:{self.account}:log-group:{name}:*"
        if (kind, attribute) == ("AWS::Lambda::Function", "Arn"):
            return f"{prefix}:lambda:{self.region}:{self.account}:function:{name}"
        if (kind, attribute) == ("AWS::SQS::Queue", "Arn"):
            return f"{prefix}:sqs:{self.region}:{self.account}:{name}"
        if (kind, attribute) == ("AWS::IAM::Role", "Arn"):
            return f"{prefix}:iam::{self.account}:role/{name}"
        if (kind, attribute) == ("AWS::DynamoDB::Table", "StreamArn"):
            return f"{prefix}:dynamodb:{self.region}:{self.account}:table/{name}/stream/2026-01-01T00:00:00.000"
        if (kind, attribute) == ("AWS::ApiGatewayV2::Api", "ApiEndpoint"):
            suffix = self.ref("AWS::URLSuffix")
            return f"https://{logical_id.lower()}.execute-api.{self.region}.{suffix}"
        if (kind, attribute) == ("AWS::SQS::Queue", "Arn"):
            return f"{prefix}:sqs:{self.region}:{self.account}:{name}"
        raise UnsupportedIntrinsic(f"Fn::GetAtt {logical_id}.{attribute} ({kind})")

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        if name in self.template["Resources"]:
            if self.template["Resources"][name]["Type"] == "AWS::SQS::Queue":  # Ref of a queue: its URL
                return (
                    f"https://sqs.{self.region}.{self.ref('AWS::URLSuffix')}/{self.account}/{self.resource_name(name)}"
                )
            if self.template["Resources"][name]["Type"] == "AWS::Lambda::LayerVersion":  # Ref is the version's ARN
                return f"arn:{self.partition}:lambda:{self.region}:{self.account}:layer:{name}:1"
            return self.resource_name(name)
        raise UnsupportedIntrinsic(f"Ref {name}")

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return _SUB_VAR.sub(one, text)

    def resolve(self, node: Any) -> Any:
        """``node`` with every intrinsic function evaluated."""
        if isinstance(node, list):
            items = [self.resolve(x) for x in node]
            return [x for x in items if x is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(arg, {}) if isinstance(arg, str) else self._sub(arg[0], arg[1])
            if key == "Fn::FindInMap":
                name, top, second = (str(self.resolve(x)) for x in arg)
                try:
                    return self.template["Mappings"][name][top][second]
                except KeyError as exc:
                    raise LookupError(f"Fn::FindInMap [{name}, {top}, {second}]: no such key") from exc
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(x) for x in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key.startswith("Fn::") or key == "Condition":
                raise UnsupportedIntrinsic(key)
        out = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not _NO_VALUE:
                out[key] = resolved
        return out

    def resource(self, logical_id: str) -> dict[str, Any]:
        """A resource with its properties resolved (a resource whose ``Condition`` is false raises KeyError)."""
        resource = self.template["Resources"][logical_id]
        if "Condition" in resource and not self.condition(resource["Condition"]):
            raise KeyError(f"{logical_id} is not created in this deployment (condition {resource['Condition']})")
        return {**resource, "Properties": self.resolve(resource.get("Properties", {}))}


#: The method of the API's ``$default`` route in :func:`api_routes` (it takes any method and path no route takes).
DEFAULT_ROUTE = "$default"


def api_routes(deployment: Deployment) -> list[tuple[str, re.Pattern[str], str]]:
    """``(METHOD, path regex, function)`` for every route of the HTTP API's OpenAPI body; the ``$default`` route
    (SAM writes it as path ``$default``, method ``x-amazon-apigateway-any-method``) as ``(DEFAULT_ROUTE, .*, fn)``."""
    apis = [
        r
        for r in deployment.template["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Api" and r["Properties"].get("ProtocolType") != "WEBSOCKET"
    ]
    assert len(apis) == 1, "one HTTP API"
    routes = []
    for path, methods in apis[0]["Properties"]["Body"]["paths"].items():
        pattern = ""
        for literal, param in re.findall(r"([^{]*)(?:\{([^}]+)\})?", path):
            pattern += re.escape(literal) + ((".+" if param.endswith("+") else "[^/]+") if param else "")
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            (function,) = _FUNCTION_IN_URI.findall(uri)
            if path == "$default":
                assert method == "x-amazon-apigateway-any-method", method
                routes.append((DEFAULT_ROUTE, re.compile(".*", re.DOTALL), function))
                continue
            routes.append((method.upper(), re.compile(f"^{pattern}$"), function))
    return routes


def route_function(routes: list[tuple[str, re.Pattern[str], str]], method: str, path: str) -> str | None:
    """The function API Gateway invokes for ``method path``: the one matching route, else the ``$default`` route's
    function, else None (API Gateway answers 404 itself)."""
    explicit = [fn for m, rule, fn in routes if m == method and rule.match(path)]
    assert len(explicit) <= 1, f"{method} {path} matches several routes: {explicit}"
    if explicit:
        return explicit[0]
    default = [fn for m, _, fn in routes if m == DEFAULT_ROUTE]
    return default[0] if default else None
