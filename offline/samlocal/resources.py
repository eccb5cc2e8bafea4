"""Resources of a SAM template created in moto: names, ``Ref`` / ``Fn::GetAtt`` values and one creator per type.

:class:`StackResources` is the part of :class:`samlocal.stack.OfflineStack` that turns each resource into real
boto3 calls against moto; what is not needed offline is recorded in ``skipped`` with the reason.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import Schedule
from .intrinsics import IntrinsicError
from .lambda_runtime import FunctionSpec

__all__ = ["StackError", "StackResources"]

# creation order by type (references to later types are resolved from predicted names)
_ORDER = [
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::Events::EventBus",
    "AWS::Serverless::LayerVersion",
    "AWS::Lambda::LayerVersion",
    "AWS::Serverless::Function",
    "AWS::Lambda::Permission",
    "AWS::Serverless::StateMachine",
    "AWS::Events::Rule",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::Api",
]

_RECORDED_ONLY = {
    "AWS::IAM::Policy": "IAM is not enforced offline",
    "AWS::IAM::ManagedPolicy": "IAM is not enforced offline",
    "AWS::Lambda::Permission": "resource policies are not enforced offline",
    "AWS::S3::BucketPolicy": (
        "recorded, not applied: moto enforces bucket policies and treats every request as insecure "
        "transport, so a DenyInsecureTransport statement would deny everything offline"
    ),
    "AWS::SQS::QueuePolicy": "resource policies are not enforced offline",
    "AWS::SNS::TopicPolicy": "resource policies are not enforced offline",
    "AWS::KMS::Alias": "KMS aliases are not needed offline",
    "AWS::Serverless::HttpApi": "routes recorded in stack.apis; HTTP serving is a separate component",
    "AWS::Serverless::Api": "routes recorded in stack.apis; HTTP serving is a separate component",
    "AWS::ApiGatewayV2::Api": "HTTP serving is a separate component",
}


class StackError(RuntimeError):
    """The template cannot be deployed offline."""


@dataclass
class _Res:
    logical_id: str
    type: str
    props: dict[str, Any]
    raw: dict[str, Any]
    ref: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _ScheduleEntry:
    name: str
    rule_arn: str
    schedule: Schedule
    target: dict[str, Any]
    anchor: datetime
    enabled: bool = True


class StackResources:
    """Names, references and creation of the template's resources (mixed into ``OfflineStack``)."""

    # set by OfflineStack
    stack_name: str
    region: str
    account_id: str
    root: Path
    resolver: Any
    runtime: Any
    resources: dict[str, _Res]
    skipped: dict[str, str]
    apis: list[dict[str, Any]]
    schedules: list[_ScheduleEntry]
    state_machines: dict[str, str]
    layers: dict[str, Path]

    def client(self, service: str) -> Any:
        raise NotImplementedError

    # -- names and references ----------------------------------------------------------------------
    def _name(self, res: _Res, prop: str | None, max_len: int = 64, lower: bool = False) -> str:
        if prop and res.props.get(prop) is not None:
            return str(self.resolver.resolve(res.props[prop]))
        name = f"{self.stack_name}-{res.logical_id}"
        name = name.lower() if lower else name
        return name[:max_len]

    def _physical(self, res: _Res) -> None:
        """Compute the resource's Ref and attributes (names resolved lazily; cycles allowed)."""
        r, a = self.region, self.account_id
        t = res.type
        if t == "AWS::S3::Bucket":
            name = self._name(res, "BucketName", 63, lower=True)
            res.ref = name
            res.attrs = {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{r}.amazonaws.com",
            }
        elif t == "AWS::DynamoDB::Table":
            name = self._name(res, "TableName", 255)
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:dynamodb:{r}:{a}:table/{name}"}
        elif t == "AWS::SNS::Topic":
            name = self._name(res, "TopicName", 256)
            res.ref = f"arn:aws:sns:{r}:{a}:{name}"
            res.attrs = {"TopicArn": res.ref, "TopicName": name}
        elif t == "AWS::SQS::Queue":
            name = self._name(res, "QueueName", 80)
            res.ref = f"https://sqs.{r}.amazonaws.com/{a}/{name}"
            res.attrs = {"Arn": f"arn:aws:sqs:{r}:{a}:{name}", "QueueName": name, "QueueUrl": res.ref}
        elif t == "AWS::Events::EventBus":
            name = self._name(res, "Name", 256)
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:events:{r}:{a}:event-bus/{name}", "Name": name}
        elif t == "AWS::Events::Rule":
            name = self._name(res, "Name", 64)
            bus = self._bus_name(res.props.get("EventBusName"))
            prefix = "" if bus == "default" else f"{bus}/"
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:events:{r}:{a}:rule/{prefix}{name}"}
        elif t in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = self._name(res, "FunctionName", 64)
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:lambda:{r}:{a}:function:{name}"}
        elif t == "AWS::Serverless::StateMachine":
            name = self._name(res, "Name", 80)
            res.ref = f"arn:aws:states:{r}:{a}:stateMachine:{name}"
            res.attrs = {"Arn": res.ref, "Name": name}
        elif t in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            name = self._name(res, "LayerName", 64)
            res.ref = f"arn:aws:lambda:{r}:{a}:layer:{name}:1"
            res.attrs = {"Arn": res.ref}
        elif t == "AWS::IAM::Role":
            name = self._name(res, "RoleName", 64)
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:iam::{a}:role/{name}", "RoleId": f"AROA{name[:16].upper()}"}
        elif t == "AWS::Logs::LogGroup":
            name = self._name(res, "LogGroupName", 512)
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:logs:{r}:{a}:log-group:{name}:*"}
        elif t == "AWS::CloudWatch::Alarm":
            name = self._name(res, "AlarmName", 255)
            res.ref = name
            res.attrs = {"Arn": f"arn:aws:cloudwatch:{r}:{a}:alarm:{name}"}
        elif t == "AWS::CloudWatch::Dashboard":
            res.ref = self._name(res, "DashboardName", 255)
        elif t in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
            res.ref = f"offline{res.logical_id.lower()[:10]}"
            res.attrs = {"ApiEndpoint": f"http://127.0.0.1:3000/{res.logical_id}"}
        elif t == "AWS::KMS::Key":
            pass  # created first; ref set on creation
        else:
            res.ref = f"{self.stack_name}-{res.logical_id}"

    def _ref(self, logical_id: str) -> Any:
        res = self._lookup(logical_id)
        if res.ref is None:
            self._physical(res)
        if res.ref is None:
            raise IntrinsicError(f"Ref {logical_id}: not available before it is created")
        return res.ref

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        res = self._lookup(logical_id)
        if res.ref is None:
            self._physical(res)
        if attribute not in res.attrs:
            raise IntrinsicError(f"Fn::GetAtt {logical_id}.{attribute} is not supported offline")
        return res.attrs[attribute]

    def _lookup(self, logical_id: str) -> _Res:
        if logical_id in self.resources:
            return self.resources[logical_id]
        # SAM-generated resources: <Function>Role, <StateMachine>Role, ServerlessHttpApi
        for suffix, typ in (("Role", "AWS::IAM::Role"),):
            base = logical_id.removesuffix(suffix)
            if logical_id.endswith(suffix) and base in self.resources:
                res = _Res(logical_id, typ, {"RoleName": f"{self.stack_name}-{logical_id}"[:64]}, {})
                self.resources[logical_id] = res
                self._physical(res)
                return res
        if logical_id in self.skipped:
            raise IntrinsicError(f"{logical_id} is not deployed ({self.skipped[logical_id]})")
        raise IntrinsicError(f"unknown resource or parameter {logical_id!r}")

    def _bus_name(self, value: Any) -> str:
        if value is None:
            return "default"
        if isinstance(value, str) and value in self.resources:
            value = {"Ref": value}  # a logical id: the bus the template declares
        name = str(self.resolver.resolve(value))
        return name.rsplit("/", 1)[-1] if name.startswith("arn:") else name

    def _path(self, uri: Any) -> Path:
        if isinstance(uri, dict):
            raise StackError(f"S3 CodeUri/ContentUri/DefinitionUri {uri} is not supported offline; use a local path")
        return (self.root / str(uri)).resolve()

    # -- creation ------------------------------------------------------------------------------
    def _create(self, res: _Res) -> None:
        t = res.type
        if res.ref is None and t != "AWS::KMS::Key":
            self._physical(res)
        if t in _RECORDED_ONLY:
            self.skipped[res.logical_id] = _RECORDED_ONLY[t]
            if t in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
                self.apis.append({"logical_id": res.logical_id, "type": t, "routes": []})
            return
        p = self.resolver.resolve(res.props)
        if t == "AWS::KMS::Key":
            key = self.client("kms").create_key(Description=str(p.get("Description", res.logical_id)))
            meta = key["KeyMetadata"]
            res.ref, res.attrs = meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}
        elif t == "AWS::IAM::Role":
            doc = p.get("AssumeRolePolicyDocument") or {"Version": "2012-10-17", "Statement": []}
            self.client("iam").create_role(RoleName=res.ref, AssumeRolePolicyDocument=json.dumps(doc))
        elif t == "AWS::Logs::LogGroup":
            self.client("logs").create_log_group(logGroupName=res.ref)
        elif t == "AWS::S3::Bucket":
            self.client("s3").create_bucket(Bucket=res.ref)
            notification = p.get("NotificationConfiguration") or {}
            if (notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
                self.client("s3").put_bucket_notification_configuration(
                    Bucket=res.ref, NotificationConfiguration={"EventBridgeConfiguration": {}}
                )
            for kind in sorted(set(notification) - {"EventBridgeConfiguration"}):
                self.skipped[f"{res.logical_id}.NotificationConfiguration.{kind}"] = (
                    "only EventBridge notifications are delivered offline"
                )
            if (p.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
                self.client("s3").put_bucket_versioning(
                    Bucket=res.ref, VersioningConfiguration={"Status": "Enabled"}
                )
        elif t == "AWS::DynamoDB::Table":
            self._create_table(res, p)
        elif t == "AWS::SNS::Topic":
            self.client("sns").create_topic(Name=res.attrs["TopicName"])
        elif t == "AWS::SNS::Subscription":
            self.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"])
        elif t == "AWS::SQS::Queue":
            attrs = {}
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
                if key in p:
                    attrs[key] = str(p[key])
            if "RedrivePolicy" in p:
                attrs["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
            if p.get("FifoQueue"):
                attrs["FifoQueue"] = "true"
            self.client("sqs").create_queue(QueueName=res.attrs["QueueName"], Attributes=attrs)
        elif t == "AWS::Events::EventBus":
            self.client("events").create_event_bus(Name=res.ref)
        elif t in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            content = p.get("ContentUri") or (p.get("Content") or {})
            path = self._path(content)
            self.layers[res.ref] = path
            out = self.client("lambda").publish_layer_version(
                LayerName=res.ref.split(":")[6], Content={"ZipFile": _dummy_zip()}
            )
            res.ref = res.attrs["Arn"] = out["LayerVersionArn"]
            self.layers[res.ref] = path
        elif t == "AWS::Serverless::Function":
            self._create_function(res, p)
        elif t == "AWS::Serverless::StateMachine":
            self._create_state_machine(res, p)
        elif t == "AWS::Events::Rule":
            self._create_rule(res, p)
        elif t == "AWS::CloudWatch::Alarm":
            self._create_alarm(res, p)
        elif t == "AWS::CloudWatch::Dashboard":
            body = p.get("DashboardBody", "{}")
            body = body if isinstance(body, str) else json.dumps(body)
            self.client("cloudwatch").put_dashboard(DashboardName=res.ref, DashboardBody=body)
        else:
            self.skipped[res.logical_id] = f"resource type {t} is not supported offline (recorded, not created)"

    def _create_table(self, res: _Res, p: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {
            "TableName": res.ref,
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = p.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if p.get(key):
                kwargs[key] = p[key]
        if p.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        if p.get("SSESpecification"):
            sse = p["SSESpecification"]
            kwargs["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled", False)),
                **{k: sse[k] for k in ("SSEType", "KMSMasterKeyId") if k in sse},
            }
        ddb = self.client("dynamodb")
        ddb.create_table(**kwargs)
        ttl = p.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=res.ref, TimeToLiveSpecification=ttl)
        pitr = (p.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        if pitr:
            ddb.update_continuous_backups(
                TableName=res.ref, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )

    def _lambda_role(self) -> str:
        name = f"{self.stack_name}-offline-execution-role"
        iam = self.client("iam")
        try:
            return iam.get_role(RoleName=name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            doc = {"Version": "2012-10-17", "Statement": []}
            return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]

    def _create_function(self, res: _Res, p: dict[str, Any]) -> None:
        code_uri = p.get("CodeUri")
        if code_uri is None or p.get("InlineCode"):
            raise StackError(f"{res.logical_id}: only CodeUri functions are supported offline")
        code_dir = self._path(code_uri)
        layer_dirs = []
        for arn in p.get("Layers") or []:
            if arn in self.layers:
                layer_dirs.append(self.layers[arn])
            else:
                self.skipped.setdefault(
                    f"{res.logical_id}.Layers", f"external layer {arn} not available offline (use the venv)"
                )
        env = {k: str(v) if not isinstance(v, bool) else str(v).lower()
               for k, v in ((p.get("Environment") or {}).get("Variables") or {}).items()}
        spec = FunctionSpec(
            logical_id=res.logical_id,
            function_name=res.ref,
            handler=str(p["Handler"]),
            code_dir=code_dir,
            layer_dirs=layer_dirs,
            environment=env,
            memory_size=int(p.get("MemorySize", 128)),
            timeout=float(p.get("Timeout", 3)),
            runtime=str(p.get("Runtime", "python3.11")),
            arn=res.attrs["Arn"],
        )
        role = p.get("Role") or self._lambda_role()
        self.client("lambda").create_function(
            FunctionName=res.ref,
            Runtime=spec.runtime,
            Role=role if str(role).startswith("arn:") else self._lambda_role(),
            Handler=spec.handler,
            Code={"ZipFile": _dummy_zip()},
            Timeout=int(spec.timeout),
            MemorySize=spec.memory_size,
            Environment={"Variables": env},
            Architectures=p.get("Architectures", ["x86_64"]),
        )
        self.runtime.lambdas.register(spec)
        for event_id, ev in (p.get("Events") or {}).items():
            self._sam_event(res, event_id, ev, res.attrs["Arn"])

    def _create_state_machine(self, res: _Res, p: dict[str, Any]) -> None:
        if "DefinitionUri" in p:
            text = self._path(p["DefinitionUri"]).read_text(encoding="utf-8")
        elif "Definition" in p:
            text = json.dumps(p["Definition"])
        else:
            raise StackError(f"{res.logical_id}: needs DefinitionUri or Definition")
        subs = p.get("DefinitionSubstitutions") or {}

        def _sub(m: Any) -> str:
            key = m.group(1)
            if key not in subs:
                raise StackError(f"{res.logical_id}: ${{{key}}} has no DefinitionSubstitutions entry")
            return str(subs[key])

        text = re.sub(r"\$\{([A-Za-z0-9_]+)\}", _sub, text)
        role = p.get("Role") or self._lambda_role()
        out = self.client("stepfunctions").create_state_machine(
            name=res.attrs["Name"],
            definition=text,
            roleArn=role if str(role).startswith("arn:") else self._lambda_role(),
            type=p.get("Type", "STANDARD"),
        )
        if out["stateMachineArn"] != res.ref:
            raise StackError(f"{res.logical_id}: ARN {out['stateMachineArn']} differs from {res.ref}")
        self.state_machines[res.logical_id] = res.ref
        for event_id, ev in (p.get("Events") or {}).items():
            self._sam_event(res, event_id, ev, res.ref)

    def _sam_event(self, res: _Res, event_id: str, ev: dict[str, Any], target_arn: str) -> None:
        typ, ep = ev.get("Type"), ev.get("Properties") or {}
        rule_name = f"{self.stack_name}-{res.logical_id}-{event_id}"[:64]
        target: dict[str, Any] = {"Id": (ep.get("Target") or {}).get("Id", f"{res.logical_id}{event_id}")[:64],
                                  "Arn": target_arn}
        for key in ("Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig"):
            if ep.get(key) is not None:
                target[key] = ep[key]
        if target.get("DeadLetterConfig") and not target["DeadLetterConfig"].get("Arn"):
            target.pop("DeadLetterConfig")
            self.skipped[f"{res.logical_id}.Events.{event_id}.DeadLetterConfig"] = (
                "only DeadLetterConfig.Arn is supported offline"
            )
        if typ in ("EventBridgeRule", "CloudWatchEvent"):
            bus = self._bus_name(ep.get("EventBusName"))
            self.client("events").put_rule(
                Name=rule_name, EventPattern=json.dumps(ep["Pattern"]), EventBusName=bus,
                State=ep.get("State", "ENABLED"),
            )
            self.client("events").put_targets(Rule=rule_name, EventBusName=bus, Targets=[_api_target(target)])
        elif typ in ("Schedule", "ScheduleV2"):
            expr = ep.get("Schedule") or ep.get("ScheduleExpression")
            enabled = ep.get("Enabled", True) is not False and ep.get("State", "ENABLED") == "ENABLED"
            rule_arn = f"arn:aws:events:{self.region}:{self.account_id}:rule/{rule_name}"
            if typ == "Schedule":
                self.client("events").put_rule(
                    Name=rule_name, ScheduleExpression=expr, State="ENABLED" if enabled else "DISABLED"
                )
                self.client("events").put_targets(Rule=rule_name, Targets=[_api_target(target)])
            else:
                rule_arn = f"arn:aws:scheduler:{self.region}:{self.account_id}:schedule/default/{rule_name}"
                target.setdefault("Input", ep.get("Input", "{}"))
            self.schedules.append(
                _ScheduleEntry(rule_name, rule_arn, Schedule.parse(expr), target, self.runtime.clock.now(), enabled)
            )
        elif typ in ("HttpApi", "Api"):
            self.apis.append({"function": res.logical_id, "event": event_id, "type": typ, **ep})
        else:
            self.skipped[f"{res.logical_id}.Events.{event_id}"] = f"event source {typ} not supported offline"

    def _create_rule(self, res: _Res, p: dict[str, Any]) -> None:
        bus = self._bus_name(p.get("EventBusName"))
        kwargs: dict[str, Any] = {"Name": res.ref, "EventBusName": bus, "State": p.get("State", "ENABLED")}
        if p.get("EventPattern"):
            kwargs["EventPattern"] = json.dumps(p["EventPattern"])
        if p.get("ScheduleExpression"):
            kwargs["ScheduleExpression"] = p["ScheduleExpression"]
        if p.get("RoleArn"):
            kwargs["RoleArn"] = p["RoleArn"]
        self.client("events").put_rule(**kwargs)
        targets = [dict(t) for t in p.get("Targets") or []]
        if targets:
            self.client("events").put_targets(Rule=res.ref, EventBusName=bus, Targets=[_api_target(t) for t in targets])
        if p.get("ScheduleExpression"):
            for t in targets:
                self.schedules.append(
                    _ScheduleEntry(
                        res.ref, res.attrs["Arn"], Schedule.parse(p["ScheduleExpression"]), t,
                        self.runtime.clock.now(), p.get("State", "ENABLED") == "ENABLED",
                    )
                )

    def _create_alarm(self, res: _Res, p: dict[str, Any]) -> None:
        kwargs = {k: p[k] for k in (
            "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
            "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
            "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
            "Metrics",
        ) if k in p}
        kwargs.setdefault("EvaluationPeriods", 1)
        kwargs.setdefault("ComparisonOperator", "GreaterThanThreshold")
        self.client("cloudwatch").put_metric_alarm(AlarmName=res.ref, **kwargs)


def _api_target(target: dict[str, Any]) -> dict[str, Any]:
    out = dict(target)
    if isinstance(out.get("Input"), dict | list):
        out["Input"] = json.dumps(out["Input"])
    return out


def _dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("offline.py", "# the offline runtime invokes the real handler in-process\n")
    return buf.getvalue()


def _merge_globals(globals_fn: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM Globals semantics: maps merge (function wins), lists concatenate, scalars are overridden."""
    out = copy.deepcopy(globals_fn)
    for key, value in props.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge_maps(out[key], value)
        elif key in out and isinstance(out[key], list) and isinstance(value, list):
            out[key] = out[key] + value
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_maps(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(a)
    for k, v in b.items():
        intrinsic = isinstance(v, dict) and any(s.startswith("Fn::") or s == "Ref" for s in v)
        if k in out and isinstance(out[k], dict) and isinstance(v, dict) and not intrinsic:
            out[k] = _merge_maps(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
