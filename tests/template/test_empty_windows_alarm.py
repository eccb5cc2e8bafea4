"""The empty-window alarm: a parameter N (default 3) and an alarm on the metric the retrain launcher emits."""

from __future__ import annotations

import ast
from typing import Any

from cfnlint.decode import decode

from tests.conftest import ROOT


def _template() -> dict[str, Any]:
    tpl, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return tpl


def test_alarm_after_n_consecutive_empty_windows() -> None:
    tpl = _template()
    param = tpl["Parameters"]["EmptyWindowsAlarmThreshold"]
    assert (param["Type"], param["Default"], param["MinValue"]) == ("Number", 3, 1)
    alarm = tpl["Resources"]["EmptyWindowsAlarm"]["Properties"]
    assert alarm["Namespace"] == "Driftline"
    assert alarm["MetricName"] == "ConsecutiveEmptyWindows"
    assert alarm["Threshold"] == {"Ref": "EmptyWindowsAlarmThreshold"}
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Statistic"] == "Maximum"
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    # the dimension Powertools adds to every metric of the retrain launcher: its service name
    launcher = tpl["Resources"]["RetrainLauncherFunction"]["Properties"]
    service = launcher["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]


def test_the_alarmed_metric_is_the_one_the_handler_emits() -> None:
    source = (ROOT / "functions" / "retrain_launcher" / "retrain_launcher" / "handler.py").read_text()
    names = {kw.value.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             for kw in node.keywords if kw.arg == "name" and isinstance(kw.value, ast.Constant)}
    assert {"ConsecutiveEmptyWindows", "EmptyWindows"} <= names
