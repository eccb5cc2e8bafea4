"""Generate ``docs/contracts.md``'s payload and error tables from the event contracts.

    PYTHONPATH=layers/metrics:layers/common .venv/bin/python -m tools.contracts_doc          # rewrite the doc
    PYTHONPATH=layers/metrics:layers/common .venv/bin/python -m tools.contracts_doc --check  # exit 1 when stale

The tables go between ``<!-- contracts:begin -->`` and ``<!-- contracts:end -->`` (one table per action, from the
models' JSON Schema: every field, nested objects flattened to dotted paths) and between ``<!-- errors:begin -->``
and ``<!-- errors:end -->`` (the error names the state machine matches, from
:mod:`driftline_common.contracts.pipeline` and the ASL); the prose around them stays hand-written.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "contracts.md"
ASL = ROOT / "statemachines" / "pipeline.asl.json"
FUNCTIONS = ("retrain_launcher", "metric_evaluator", "drift_checker", "deployer", "trigger_router")
MARKERS = {"contracts": ("<!-- contracts:begin -->", "<!-- contracts:end -->"),
           "errors": ("<!-- errors:begin -->", "<!-- errors:end -->")}


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = {**defs[schema["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _nullable(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            return {**rest[0], **{k: v for k, v in schema.items() if k != "anyOf"}}, True
    return schema, False


def _type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    schema = _resolve(schema, defs)
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    if kind is None:
        return "any"
    if kind == "array":
        return f"array of {_type(schema.get('items', {}), defs)}"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    if kind == "string" and "pattern" in schema:
        return f"string `{schema['pattern']}`"
    if kind == "string" and schema.get("maxLength"):
        return f"string (≤ {schema['maxLength']} chars)"
    return str(kind)


def _rows(schema: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> list[tuple[str, str, str, str]]:
    schema = _resolve(schema, defs)
    required = set(schema.get("required", []))
    rows = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _nullable(raw)
        prop = _resolve(prop, defs)
        path = f"{prefix}{name}"
        description = " ".join(str(prop.get("description", "")).split())
        default = prop.get("default", raw.get("default"))
        if name not in required and default is not None:
            description = f"{description} (default `{json.dumps(default)}`)".strip()
        need = "yes" if name in required else ("no (or null)" if nullable else "no")
        rows.append((path, _type(prop, defs), need, description))
        if prop.get("type") == "object" and "properties" in prop:
            rows.extend(_rows(prop, defs, f"{path}."))
        items = _resolve(prop.get("items", {}), defs) if prop.get("type") == "array" else {}
        if items.get("properties"):
            rows.extend(_rows(items, defs, f"{path}[]."))
    return rows


def _table(model: Any, heading: str) -> list[str]:
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    doc = " ".join((model.__doc__ or "").split())
    lines = [heading, "", doc, "", "| field | type | required | description |", "|---|---|---|---|"]
    lines += [f"| `{p}` | {t} | {r} | {d.replace('|', chr(92) + '|')} |" for p, t, r, d in _rows(schema, defs)]
    return [*lines, ""]


def contracts_section() -> str:
    from driftline_common.contracts.retrain_launcher import RunRequest, RunRequested

    lines = ["Generated from `layers/common/driftline_common/contracts/` by `python -m tools.contracts_doc` "
             "(do not edit by hand; a test fails when this is stale). Every object also accepts keys it does not "
             "list (the state machine passes whole results along).", ""]
    for function in FUNCTIONS:
        module = importlib.import_module(f"driftline_common.contracts.{function}")
        lines += [f"### {function}", ""]
        for action, model in module.EVENTS.items():
            lines += _table(model, f"#### `{action}` — `{model.__name__}`")
        if function == "retrain_launcher":
            lines += _table(RunRequest, "#### `start_run`'s `request`, direct — `RunRequest`")
            lines += _table(RunRequested, "#### `start_run`'s `request`, an EventBridge envelope — `RunRequested`")
    return "\n".join(lines).rstrip() + "\n"


def _asl_matches() -> dict[str, dict[str, set[str]]]:
    """``{error name: {"Catch": {states}, "Retry": {states}}}`` over every state of the ASL."""
    out: dict[str, dict[str, set[str]]] = {}

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            for key in ("Retry", "Catch"):
                for rule in state.get(key, []):
                    for error in rule["ErrorEquals"]:
                        out.setdefault(error, {"Catch": set(), "Retry": set()})[key].add(name)
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(json.loads(ASL.read_text())["States"])
    return out


def errors_section() -> str:
    from driftline_common import errors
    from driftline_common.contracts import pipeline
    from driftline_common.events import EventPublishError

    classes = {c.__name__: c for c in [*vars(errors).values(), EventPublishError]
               if isinstance(c, type) and issubclass(c, errors.DriftlineError) and c is not errors.DriftlineError}
    matches = _asl_matches()
    lines = ["Generated from `driftline_common.errors`, `driftline_common.contracts.pipeline` and "
             "`statemachines/pipeline.asl.json` by `python -m tools.contracts_doc`.", "",
             "| error | meaning | state machine |", "|---|---|---|"]
    for name, cls in sorted(classes.items()):
        meaning = " ".join((cls.__doc__ or "").split()).split(". ")[0].rstrip(".")
        where = []
        if name in pipeline.CAUGHT:
            where.append(f"caught by name ({len(matches.get(name, {}).get('Catch', ()))} states) → the failure path")
        if name in pipeline.RETRIED:
            where.append("retried by " + ", ".join(sorted(matches.get(name, {}).get("Retry", ()))))
        if name in pipeline.HANDLED_INSIDE:
            where.append(f"never leaves a function: {pipeline.HANDLED_INSIDE[name]}")
        if name in pipeline.API_ONLY:
            where.append("HTTP API only")
        lines.append(f"| `{name}` | {meaning} | {'; '.join(where) or '—'} |")
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """``text`` with its generated sections replaced."""
    for key, body in (("contracts", contracts_section()), ("errors", errors_section())):
        begin, end = MARKERS[key]
        head, found, rest = text.partition(begin)
        if not found or end not in rest:
            raise SystemExit(f"{DOC.relative_to(ROOT)} lacks the markers {begin} ... {end}")
        text = f"{head}{begin}\n{body}{end}{rest.partition(end)[2]}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the doc is stale, write nothing")
    args = parser.parse_args()
    text = DOC.read_text()
    fresh = render(text)
    if args.check:
        if fresh != text:
            print(f"{DOC.relative_to(ROOT)} is stale: run python -m tools.contracts_doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
