"""Read template.yaml as data: a YAML loader that understands CloudFormation's short tags.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}`` and every
other ``!Tag`` becomes ``{"Fn::Tag": value}`` -- the same shape as the long form, so tests can walk
one structure. Needs only PyYAML (no SAM CLI).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    return data


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def function_names(template: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The logical ids of the template's Lambda functions (``AWS::Serverless::Function``), in template order: the
    one list the SAM tests loop over, so a function added to template.yaml is checked without being named again."""
    names = tuple(resources_of_type(template or load_template(), "AWS::Serverless::Function"))
    if not names:
        raise AssertionError("the template declares no AWS::Serverless::Function")
    return names


def walk(value: Any) -> Iterator[Any]:
    """Every node of a YAML/JSON structure, depth first."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def ref_name(value: Any) -> str | None:
    """The logical id a ``!Ref``/``!GetAtt`` (or a ``${X.Arn}`` Sub) points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str) and value["Fn::Sub"].startswith("${"):
            return value["Fn::Sub"][2:].split("}")[0].split(".")[0]
    return None
