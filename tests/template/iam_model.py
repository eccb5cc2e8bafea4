"""A small model of the stack's IAM for template tests: who may do what on which resource.

The SAM-translated template (``tools.sam_translate``) is resolved with the offline intrinsic resolver and
deterministic physical names (names from the template's own name properties, ARNs as AWS builds them), so
policies written with ``Ref``/``Fn::GetAtt``/``Fn::Sub``/literal ARN patterns all become plain strings.
``Allows`` evaluates identity policies as IAM does for one action on one resource: an explicit ``Deny``
wins, otherwise any ``Allow`` whose ``Action`` and ``Resource`` patterns (``*``/``?`` wildcards) match.
Condition keys are kept for the tests to inspect; they are not evaluated.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from samlocal.intrinsics import NO_VALUE, Resolver

REGION = "us-east-1"
ACCOUNT = "123456789012"

_NAME_PROPS = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::EventBus": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def matches(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcard match (``*`` any run, ``?`` one character)."""
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


@dataclass
class Stack:
    """The resolved resources of a translated template for one set of parameter values."""

    raw: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    #: physical names to use instead of the derived ones (e.g. those of a stack deployed offline)
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        params: dict[str, Any] = {}
        for name, spec in (self.raw.get("Parameters") or {}).items():
            value = self.parameters.get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = value.split(",")
            params[name] = value
        self._names: dict[str, str] = dict(self.names)
        self.resolver = Resolver(parameters=params, conditions=self.raw.get("Conditions"),
                                 mappings=self.raw.get("Mappings"), region=REGION, account_id=ACCOUNT,
                                 ref=self._ref, get_att=self._get_att)
        self.resources: dict[str, dict[str, Any]] = {}
        for logical_id, res in self.raw["Resources"].items():
            cond = res.get("Condition")
            if cond and not self.resolver.condition(cond):
                continue
            self.resources[logical_id] = {"Type": res["Type"],
                                          "Properties": self.resolver.resolve(res.get("Properties") or {})}

    # -- physical names ---------------------------------------------------------------------------
    def _type(self, logical_id: str) -> str:
        if logical_id not in self.raw["Resources"]:
            raise KeyError(f"unknown resource {logical_id}")
        return str(self.raw["Resources"][logical_id]["Type"])

    def name(self, logical_id: str) -> str:
        if logical_id not in self._names:
            prop = _NAME_PROPS.get(self._type(logical_id))
            given = (self.raw["Resources"][logical_id].get("Properties") or {}).get(prop) if prop else None
            if self._type(logical_id) == "AWS::KMS::Key":
                name = f"key-id-{logical_id}"
            elif given is None:
                name = f"stack-{logical_id}"
                name = name.lower() if self._type(logical_id) == "AWS::S3::Bucket" else name
            else:
                name = str(self.resolver.resolve(given))
            self._names[logical_id] = name
        return self._names[logical_id]

    def _ref(self, logical_id: str) -> Any:
        t, n = self._type(logical_id), self.name(logical_id)
        if t == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{n}"
        if t == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{n}"
        if t == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{n}"
        return n

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        t, n = self._type(logical_id), self.name(logical_id)
        arns = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{n}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{n}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{n}",
            "AWS::Events::EventBus": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{n}",
            "AWS::Events::Rule": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{n}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{n}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{n}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{n}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{n}:*",
            "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{n}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{n}",
        }
        if attribute == "Arn" and t in arns:
            return arns[t]
        if attribute in ("TopicName", "QueueName", "Name"):
            return n
        if attribute == "TopicArn":
            return arns["AWS::SNS::Topic"]
        if attribute == "KeyId":
            return self._ref(logical_id)
        return f"{logical_id}.{attribute}"

    # -- lookups ----------------------------------------------------------------------------------
    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v["Properties"] for k, v in self.resources.items() if v["Type"] == kind}

    def arn(self, logical_id: str) -> str:
        t = self._type(logical_id)
        return str(self._ref(logical_id) if t in ("AWS::SNS::Topic", "AWS::StepFunctions::StateMachine")
                   else self._get_att(logical_id, "Arn"))

    def key_arn(self, key_ref: Any) -> str:
        """The ARN of the stack's key referenced by ``key_ref`` (a resolved key id or ARN)."""
        for logical_id in self.of_type("AWS::KMS::Key"):
            if key_ref in (self._ref(logical_id), self._get_att(logical_id, "Arn")):
                return str(self._get_att(logical_id, "Arn"))
        raise KeyError(f"{key_ref!r} is not a key of this stack")

    def key_policy(self, key_arn: str) -> list[dict[str, Any]]:
        for logical_id, props in self.of_type("AWS::KMS::Key").items():
            if self._get_att(logical_id, "Arn") == key_arn:
                return [s for s in as_list(props["KeyPolicy"]["Statement"]) if s is not NO_VALUE]
        raise KeyError(key_arn)

    def role_statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement of the role's inline policies and of the stack's policies attached to it."""
        props = self.of_type("AWS::IAM::Role")[role]
        out = [s for p in props.get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])]
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for pol in self.of_type(kind).values():
                if self.name(role) in as_list(pol.get("Roles")):
                    out += as_list(pol["PolicyDocument"]["Statement"])
        return out


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether identity-policy ``statements`` allow ``action`` on ``resource`` (explicit deny wins)."""
    hit = {"Allow": False, "Deny": False}
    for s in statements:
        assert "NotAction" not in s, s  # not modelled: keep policies explicit
        assert "NotResource" not in s, s
        if any(matches(a, action, case_sensitive=False) for a in as_list(s["Action"])) and any(
            matches(r, resource) for r in as_list(s.get("Resource", "*"))
        ):
            hit[s["Effect"]] = True
    return hit["Allow"] and not hit["Deny"]


def principals(stmt: dict[str, Any], kind: str) -> list[str]:
    p = stmt.get("Principal")
    if p == "*":
        return ["*"]
    return [str(x) for x in as_list((p or {}).get(kind))]


def key_policy_allows_service(policy: list[dict[str, Any]], service: str, action: str) -> list[dict[str, Any]]:
    """The key-policy statements that allow ``service`` (a service principal) ``action``."""
    return [s for s in policy if s["Effect"] == "Allow" and service in principals(s, "Service")
            and any(matches(a, action, case_sensitive=False) for a in as_list(s["Action"]))]


def key_policy_delegates_to_iam(policy: list[dict[str, Any]]) -> bool:
    """The key policy lets the account's IAM policies grant use of the key (``root`` principal, ``kms:*``)."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    return any(s["Effect"] == "Allow" and root in principals(s, "AWS") and "kms:*" in as_list(s["Action"])
               for s in policy)
