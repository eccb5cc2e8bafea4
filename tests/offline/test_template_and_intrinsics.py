"""CloudFormation tags, intrinsics, schedules and target input: pure functions, no moto."""

from datetime import UTC, datetime, timedelta

import pytest
from samlocal import cfn_yaml
from samlocal.cfn_yaml import load_template, load_template_text
from samlocal.clock import Schedule, ScheduleError
from samlocal.eventbridge import render_input
from samlocal.intrinsics import IntrinsicError, Resolver


def test_short_and_long_tags_load_to_the_same_long_form():
    short = load_template_text(
        "A: !Ref X\nB: !GetAtt Fn.Arn\nC: !Sub 'a-${X}'\nD: !Join [',', [!Ref X, b]]\n"
        "E: !If [Cond, !Select [0, !Split [',', 'p,q']], !ImportValue Exp]\nF: !Not [!Equals [1, 2]]\n"
        "G: !FindInMap [M, k, v]\n"
    )
    long = load_template_text(
        "A: {Ref: X}\nB: {'Fn::GetAtt': [Fn, Arn]}\nC: {'Fn::Sub': 'a-${X}'}\n"
        "D: {'Fn::Join': [',', [{Ref: X}, b]]}\n"
        "E: {'Fn::If': [Cond, {'Fn::Select': [0, {'Fn::Split': [',', 'p,q']}]}, {'Fn::ImportValue': Exp}]}\n"
        "F: {'Fn::Not': [{'Fn::Equals': [1, 2]}]}\nG: {'Fn::FindInMap': [M, k, v]}\n"
    )
    assert short == long


def test_a_template_file_is_parsed_once_until_it_changes(tmp_path, monkeypatch):
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  A: {Type: X, Properties: {Name: !Ref P}}\n")
    parses = []
    monkeypatch.setattr(cfn_yaml, "load_template_text", lambda text: parses.append(text) or load_template_text(text))
    first = load_template(path)
    first["Resources"]["A"]["Properties"]["Name"] = "changed by a caller"
    second = load_template(path)
    assert len(parses) == 1
    assert second == {"Resources": {"A": {"Type": "X", "Properties": {"Name": {"Ref": "P"}}}}}
    path.write_text("Resources:\n  B: {Type: Y}\n")
    assert load_template(path) == {"Resources": {"B": {"Type": "Y"}}}
    assert len(parses) == 2


def test_resolver_evaluates_every_supported_intrinsic():
    resources = {"Bus": ("fx-bus", {"Arn": "arn:bus"})}
    r = Resolver(
        parameters={"Stage": "dev"},
        conditions={"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        mappings={"M": {"dev": {"n": 7}}},
        ref=lambda name: resources[name][0],
        get_att=lambda name, att: resources[name][1][att],
        imports={"Exp": "imported"},
    )
    doc = load_template_text(
        "a: !Sub '${Stage}-${AWS::Region}-${AWS::AccountId}-${Bus}-${Bus.Arn}-${!Literal}'\n"
        "b: !If [IsProd, p, d]\nc: !FindInMap [M, !Ref Stage, n]\nd: !Join ['/', [!Ref Bus, !GetAtt Bus.Arn]]\n"
        "e: !Select [1, !Split [',', 'x,y,z']]\nf: !ImportValue Exp\n"
        "g: !Sub ['${A}-${Stage}', {A: !Ref Bus}]\nh: !If [IsProd, x, !Ref AWS::NoValue]\n"
        "i: [1, !If [IsProd, 2, !Ref AWS::NoValue], 3]\n"
    )
    out = r.resolve(doc)
    assert out == {
        "a": "dev-us-east-1-123456789012-fx-bus-arn:bus-${Literal}",
        "b": "d",
        "c": 7,
        "d": "fx-bus/arn:bus",
        "e": "y",
        "f": "imported",
        "g": "fx-bus-dev",
        "i": [1, 3],
    }
    with pytest.raises(IntrinsicError, match="ImportValue"):
        r.resolve({"Fn::ImportValue": "Missing"})


def test_rate_and_cron_schedules():
    t0 = datetime(2024, 1, 1, tzinfo=UTC)  # Monday
    rate = Schedule.parse("rate(6 hours)")
    assert rate.fire_times(t0, t0 + timedelta(days=1), anchor=t0) == [
        t0 + timedelta(hours=h) for h in (6, 12, 18, 24)
    ]
    cron = Schedule.parse("cron(0 12 ? * MON-FRI *)")
    times = cron.fire_times(t0, t0 + timedelta(days=7), anchor=t0)
    assert [t.weekday() for t in times] == [0, 1, 2, 3, 4]
    assert all(t.hour == 12 and t.minute == 0 for t in times)
    every15 = Schedule.parse("cron(0/15 * * * ? *)")
    assert len(every15.fire_times(t0, t0 + timedelta(hours=1), anchor=t0)) == 4
    with pytest.raises(ScheduleError):
        Schedule.parse("rate(0 days)")
    with pytest.raises(ScheduleError):
        Schedule.parse("cron(0 12 L * ? *)")


def test_target_input_forms():
    event = {"source": "s", "time": "2024-01-01T00:00:00Z", "detail": {"m": "a\"b", "n": 2, "o": {"k": 1}}}
    assert render_input({}, event, rule_name="r", rule_arn="arn") == event
    assert render_input({"Input": '{"x": 1}'}, event, rule_name="r", rule_arn="arn") == {"x": 1}
    assert render_input({"InputPath": "$.detail.o"}, event, rule_name="r", rule_arn="arn") == {"k": 1}
    out = render_input(
        {
            "InputTransformer": {
                "InputPathsMap": {"m": "$.detail.m", "n": "$.detail.n", "o": "$.detail.o"},
                "InputTemplate": '{"m": <m>, "text": "m=<m> n=<n>", "o": <o>, "rule": "<aws.events.rule-name>"}',
            }
        },
        event,
        rule_name="my-rule",
        rule_arn="arn",
    )
    assert out == {"m": 'a"b', "text": 'm=a"b n=2', "o": {"k": 1}, "rule": "my-rule"}
