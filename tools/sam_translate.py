"""Translate ``template.yaml`` into plain CloudFormation with the AWS SAM translator, offline.

What ``sam deploy`` would hand to CloudFormation: the generated function roles with their expanded policy
templates, the event source rules and permissions, the state machine role. Local ``CodeUri`` /
``ContentUri`` / ``DefinitionUri`` paths are replaced by a placeholder S3 location (as ``sam package`` would
after uploading), and AWS managed policy names are not looked up in IAM (the template uses none), so the
translation needs no network and no credentials.

Usage: ``python -m tools.sam_translate template.yaml build/scan/template.sam.json``
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from samlocal.cfn_yaml import load_template

__all__ = ["translate"]

_LOCAL_URIS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
PLACEHOLDER_BUCKET = "driftline-sam-artifacts"


def _no_managed_policies() -> dict[str, str]:
    """AWS managed policy names are not looked up (the template uses none; a name would be an error)."""
    return {}


def _package(template: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(template)
    for logical_id, res in (out.get("Resources") or {}).items():
        prop = _LOCAL_URIS.get(res.get("Type", ""))
        props = res.get("Properties") or {}
        if prop and isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
            props[prop] = {"Bucket": PLACEHOLDER_BUCKET, "Key": f"{logical_id}.zip"}
    return out


def translate(path: str | Path, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The SAM-translated CloudFormation template of ``path`` (a dict, intrinsics left in place)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    template = _package(load_template(path))
    params = dict(parameters or {})
    to_py27_compatible_template(template, params)
    # the region only names the placeholder partition; nothing is called
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name="us-east-1"))
    # passthrough_metadata: the checkov suppressions written on a SAM resource reach what it generates
    out = translator.translate(template, parameter_values=params, get_managed_policy_map=_no_managed_policies,
                               passthrough_metadata=True)
    return dict(undo_mark_unicode_str_in_template(out))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.sam_translate TEMPLATE OUTPUT.json", file=sys.stderr)
        return 2
    out = Path(args[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(translate(args[0]), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
