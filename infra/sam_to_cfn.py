"""Expand a SAM template into plain CloudFormation JSON, offline, so cfn-lint can check the result.

cfn-lint >= 1.54 validates SAM templates against SAM schemas and no longer runs the SAM
translator, so a bad ``!Ref`` inside a policy or an unknown runtime in ``Globals`` passes both
``cfn-lint`` and ``sam validate --lint``. Expanding with ``aws-sam-translator`` first and linting
the CloudFormation it produces catches them (tests/sam/test_lint.py).

Run it with the SAM CLI virtualenv's interpreter (it has aws-sam-translator)::

    .venv-sam/bin/python infra/sam_to_cfn.py template.yaml .aws-sam/cfn.json
    .venv-sam/bin/cfn-lint .aws-sam/cfn.json

Needs no AWS credentials and no network:
- a local ``CodeUri`` is replaced by a placeholder ``s3://`` URI (what ``sam package`` would do;
  the translator rejects local paths);
- managed policies are not looked up by name (ARNs only), so no IAM call is made.

Exit status: 0 written; 1 the translator rejected the template (its causes on stderr); 2 usage.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER_CODE_URI = "s3://placeholder-bucket/code.zip"


class _NoManagedPolicies:
    """Managed-policy loader that knows no names: no IAM ListPolicies call, no credentials."""

    def load(self) -> dict[str, str]:
        return {}


def _placeholder_code_uris(template: dict[str, Any]) -> None:
    def fix(props: dict[str, Any]) -> None:
        uri = props.get("CodeUri")
        if uri is None or (isinstance(uri, str) and not uri.startswith("s3://")):
            props["CodeUri"] = PLACEHOLDER_CODE_URI

    globals_fn = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_fn:
        fix(globals_fn)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.setdefault("Properties", {})
            if "CodeUri" in props or "CodeUri" not in globals_fn:
                fix(props)
        elif resource.get("Type") == "AWS::Serverless::LayerVersion":
            props = resource.setdefault("Properties", {})
            uri = props.get("ContentUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props["ContentUri"] = PLACEHOLDER_CODE_URI


def expand(template_text: str) -> dict[str, Any]:
    """Return the CloudFormation template the SAM translator produces for ``template_text``.

    Raises:
        samtranslator.public.exceptions.InvalidDocumentException: the template is invalid SAM.
    """
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(template_text)
    _placeholder_code_uris(template)
    result: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {Path(argv[0]).name} TEMPLATE.yaml OUT.json", file=sys.stderr)
        return 2
    from samtranslator.public.exceptions import InvalidDocumentException

    try:
        expanded = expand(Path(argv[1]).read_text(encoding="utf-8"))
    except InvalidDocumentException as exc:
        for cause in exc.causes:
            print(f"sam_to_cfn: {cause}", file=sys.stderr)
        return 1
    out = Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(expanded, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
