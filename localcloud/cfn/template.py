"""Templates: load (JSON or YAML with short-form tags), parameters, conditions, intrinsic functions, order.

Sources (CloudFormation User Guide):
- Template anatomy, Parameters (types, AllowedValues, AllowedPattern, Min/MaxLength,
  Min/MaxValue, NoEcho): https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
- Intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split,
  Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::FindInMap, Fn::Base64, Fn::GetAZs):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
- Pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
- Resource order: Ref, Fn::GetAtt (and Fn::Sub references) make implicit
  dependencies, DependsOn explicit ones:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable

import yaml


class TemplateError(ValueError):
    """A template, parameter or intrinsic that CloudFormation would refuse (ValidationError)."""


class ResolveError(ValueError):
    """An intrinsic that cannot be resolved while provisioning (the resource fails)."""


NO_VALUE = object()  # AWS::NoValue: the property is removed


# -- loading ------------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Condition":
        return {"Condition": value}
    return {name: value}


_Loader.add_multi_constructor("!", _construct_tag)


def _no_timestamps() -> None:
    # CloudFormation keeps 2010-09-09 a string: drop YAML's implicit timestamp.
    for first, resolvers in list(_Loader.yaml_implicit_resolvers.items()):
        _Loader.yaml_implicit_resolvers[first] = [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]


_no_timestamps()


def load(body: str) -> dict[str, Any]:
    text = body.strip()
    try:
        template = json.loads(text) if text.startswith("{") else yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except (ValueError, yaml.YAMLError) as err:
        raise TemplateError(f"Template format error: {err}".splitlines()[0]) from None
    if not isinstance(template, dict):
        raise TemplateError("Template format error: the template must be a JSON or YAML object")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("Template format error: At least one Resources member must be defined.")
    for logical, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"Template format error: [/Resources/{logical}] Every Resources object must contain a Type member.")
        if not re.fullmatch(r"[A-Za-z0-9]+", str(logical)):
            raise TemplateError(f"Template format error: Resource name {logical} is non alphanumeric.")
    for key in ("Parameters", "Conditions", "Outputs", "Mappings"):
        if key in template and not isinstance(template[key], dict):
            raise TemplateError(f"Template format error: {key} must be an object")
    return template


# -- parameters ----------------------------------------------------------------------------------

def resolve_parameters(template: dict[str, Any], given: dict[str, str], previous: dict[str, str] | None = None,
                       use_previous: set[str] | None = None) -> dict[str, Any]:
    """Parameter values by name: the given ones, previous ones asked for, defaults; checked against their constraints."""
    declared = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, Any] = {}
    missing = []
    for name, decl in declared.items():
        decl = decl or {}
        if name in (use_previous or set()):
            if previous is None or name not in previous:
                raise TemplateError(f"Invalid input for parameter key {name}. Cannot specify usePreviousValue as true for a parameter key not in the previous template")
            raw = previous[name]
        elif name in given:
            raw = given[name]
        elif "Default" in decl:
            raw = decl["Default"]
            raw = ",".join(str(v) for v in raw) if isinstance(raw, list) else str(raw)
        else:
            missing.append(name)
            continue
        values[name] = _check_parameter(name, decl, str(raw))
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    return values


def _check_parameter(name: str, decl: dict[str, Any], raw: str) -> Any:
    kind = str(decl.get("Type", "String"))
    is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
    items = [v.strip() if kind.startswith("List<") else v for v in raw.split(",")] if is_list else [raw]
    if is_list and raw == "":
        items = []
    allowed = decl.get("AllowedValues")
    for item in items:
        if allowed is not None and item not in [str(a) for a in allowed]:
            raise TemplateError(f"Parameter '{name}' must be one of AllowedValues")
        if "AllowedPattern" in decl and not re.fullmatch(str(decl["AllowedPattern"]), item):
            raise TemplateError(f"Parameter '{name}' must match pattern {decl['AllowedPattern']}")
        if "MinLength" in decl and len(item) < int(decl["MinLength"]):
            raise TemplateError(f"Parameter '{name}' must contain at least {decl['MinLength']} characters")
        if "MaxLength" in decl and len(item) > int(decl["MaxLength"]):
            raise TemplateError(f"Parameter '{name}' must contain at most {decl['MaxLength']} characters")
        if kind in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError:
                raise TemplateError(f"Parameter '{name}' must be a number") from None
            if "MinValue" in decl and number < float(decl["MinValue"]):
                raise TemplateError(f"Parameter '{name}' must be a number not less than {decl['MinValue']}")
            if "MaxValue" in decl and number > float(decl["MaxValue"]):
                raise TemplateError(f"Parameter '{name}' must be a number not greater than {decl['MaxValue']}")
    return items if is_list else raw


# -- intrinsics ----------------------------------------------------------------------------------

class Context:
    """What intrinsics resolve against: parameters, pseudo parameters, conditions, mappings and resources."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, Any], pseudo: dict[str, Any],
                 ref: Callable[[str], Any] | None = None, getatt: Callable[[str, str], Any] | None = None):
        self.template = template
        self.parameters = parameters
        self.pseudo = pseudo
        self._ref = ref
        self._getatt = getatt
        self.resources = template.get("Resources") or {}
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions") or {}:
            self.condition(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            decls = self.template.get("Conditions") or {}
            if name not in decls:
                raise TemplateError(f"Template format error: Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template")
            self.conditions[name] = True  # guards against a cycle; replaced below
            self.conditions[name] = bool(self.resolve(decls[name]))
        return self.conditions[name]

    def active(self, logical: str) -> bool:
        condition = self.resources[logical].get("Condition")
        return condition is None or self.condition(condition)

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            if self._ref is None:
                raise TemplateError(f"Template format error: Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template")
            return self._ref(name)
        raise TemplateError(f"Template format error: Unresolved resource dependencies [{name}] in the Resources block of the template")

    def getatt(self, logical: str, attribute: str) -> Any:
        if logical not in self.resources:
            raise TemplateError(f"Template error: instance of Fn::GetAtt references undefined resource {logical}")
        if self._getatt is None:
            raise TemplateError("Template format error: Fn::GetAtt cannot be used here")
        return self._getatt(logical, attribute)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out


def _fn_ref(ctx: Context, arg: Any) -> Any:
    return ctx.ref(str(ctx.resolve(arg)))


def _fn_getatt(ctx: Context, arg: Any) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    if not isinstance(arg, list) or len(arg) != 2:
        raise TemplateError("Template error: every Fn::GetAtt object requires two non-empty parameters")
    return ctx.getatt(str(arg[0]), str(ctx.resolve(arg[1])))


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def _fn_sub(ctx: Context, arg: Any) -> Any:
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
        text, variables = arg[0], {k: ctx.resolve(v) for k, v in arg[1].items()}
    else:
        text, variables = arg, {}
    if not isinstance(text, str):
        raise TemplateError("Template error: Fn::Sub expects a string or [string, {variables}]")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            value = variables[name]
        elif "." in name and name.split(".", 1)[0] in ctx.resources:
            value = ctx.getatt(*name.split(".", 1))
        else:
            value = ctx.ref(name)
        if isinstance(value, list):
            raise TemplateError(f"Template error: variable {name} in Fn::Sub expression does not resolve to a string")
        return _scalar(value)

    return _SUB_VAR.sub(substitute, text)


def _fn_join(ctx: Context, arg: Any) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        raise TemplateError("Template error: Fn::Join requires [delimiter, [values]]")
    items = ctx.resolve(arg[1])
    if not isinstance(items, list):
        raise TemplateError("Template error: Fn::Join's second argument must be a list")
    return str(arg[0]).join(_scalar(v) for v in items)


def _fn_select(ctx: Context, arg: Any) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        raise TemplateError("Template error: Fn::Select requires [index, list]")
    index, items = ctx.resolve(arg[0]), ctx.resolve(arg[1])
    try:
        return items[int(index)]
    except (ValueError, IndexError, TypeError):
        raise TemplateError("Template error: Fn::Select cannot select nonexistent value at index " + str(index)) from None


def _fn_split(ctx: Context, arg: Any) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        raise TemplateError("Template error: Fn::Split requires [delimiter, string]")
    return str(ctx.resolve(arg[1])).split(str(arg[0]))


def _fn_if(ctx: Context, arg: Any) -> Any:
    if not isinstance(arg, list) or len(arg) != 3:
        raise TemplateError("Template error: Fn::If requires [condition, value if true, value if false]")
    return ctx.resolve(arg[1] if ctx.condition(str(arg[0])) else arg[2])


def _fn_equals(ctx: Context, arg: Any) -> bool:
    if not isinstance(arg, list) or len(arg) != 2:
        raise TemplateError("Template error: Fn::Equals requires two values")
    left, right = (ctx.resolve(v) for v in arg)
    return _scalar(left) == _scalar(right) if not isinstance(left, (list, dict)) else left == right


def _fn_not(ctx: Context, arg: Any) -> bool:
    items = arg if isinstance(arg, list) else [arg]
    return not bool(ctx.resolve(items[0]))


def _fn_and(ctx: Context, arg: Any) -> bool:
    return all(bool(ctx.resolve(v)) for v in arg)


def _fn_or(ctx: Context, arg: Any) -> bool:
    return any(bool(ctx.resolve(v)) for v in arg)


def _fn_condition(ctx: Context, arg: Any) -> bool:
    return ctx.condition(str(arg))


def _fn_find_in_map(ctx: Context, arg: Any) -> Any:
    name, top, second = (ctx.resolve(v) for v in arg)
    try:
        return (ctx.template.get("Mappings") or {})[name][top][second]
    except (KeyError, TypeError):
        raise TemplateError(f"Template error: Unable to get mapping for {name}::{top}::{second}") from None


def _fn_base64(ctx: Context, arg: Any) -> str:
    return base64.b64encode(_scalar(ctx.resolve(arg)).encode()).decode()


def _fn_get_azs(ctx: Context, arg: Any) -> list[str]:
    region = ctx.resolve(arg) or ctx.pseudo["AWS::Region"]
    return [f"{region}{zone}" for zone in "abc"]


def _unsupported(name: str) -> Callable[[Context, Any], Any]:
    def refuse(ctx: Context, arg: Any) -> Any:
        raise TemplateError(f"Template error: the local cloud does not implement {name}")

    return refuse


_FUNCTIONS: dict[str, Callable[[Context, Any], Any]] = {
    "Ref": _fn_ref, "Fn::GetAtt": _fn_getatt, "Fn::Sub": _fn_sub, "Fn::Join": _fn_join, "Fn::Select": _fn_select,
    "Fn::Split": _fn_split, "Fn::If": _fn_if, "Fn::Equals": _fn_equals, "Fn::Not": _fn_not, "Fn::And": _fn_and,
    "Fn::Or": _fn_or, "Condition": _fn_condition, "Fn::FindInMap": _fn_find_in_map, "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs, "Fn::ImportValue": _unsupported("Fn::ImportValue"), "Fn::Transform": _unsupported("Fn::Transform"),
    "Fn::Cidr": _unsupported("Fn::Cidr"), "Fn::Length": _unsupported("Fn::Length"), "Fn::ToJsonString": _unsupported("Fn::ToJsonString"),
}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stringify(value: Any) -> Any:
    """Properties as a custom resource receives them: every scalar a string (crpg-ref-requests.html)."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if value is None:
        return value
    return _scalar(value)


# -- order -------------------------------------------------------------------------------------------

def references(value: Any, resources: dict[str, Any]) -> set[str]:
    """The logical ids of resources that `value` refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for key, arg in v.items():
                if key == "Ref" and isinstance(arg, str) and arg in resources:
                    found.add(arg)
                elif key == "Fn::GetAtt":
                    target = arg.split(".", 1)[0] if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else None)
                    if isinstance(target, str) and target in resources:
                        found.add(target)
                elif key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    local = set(arg[1]) if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict) else set()
                    if isinstance(text, str):
                        for name in _SUB_VAR.findall(text):
                            base = name.split(".", 1)[0]
                            if not name.startswith("!") and name not in local and base in resources:
                                found.add(base)
                walk(arg)

    walk(value)
    return found


PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::Partition", "AWS::URLSuffix",
          "AWS::NotificationARNs", "AWS::NoValue"}


def validate(template: dict[str, Any], active: Callable[[str], bool]) -> None:
    """What CloudFormation refuses before it starts: unknown Ref/GetAtt/Sub names, a dependency cycle."""
    resources = template["Resources"]
    known = set(template.get("Parameters") or {}) | PSEUDO | set(resources)

    def check(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                check(item)
        elif isinstance(v, dict):
            for key, arg in v.items():
                if key == "Ref" and isinstance(arg, str) and arg not in known:
                    raise TemplateError(f"Template format error: Unresolved resource dependencies [{arg}] in the Resources block of the template")
                if key == "Fn::GetAtt":
                    target = arg.split(".", 1)[0] if isinstance(arg, str) else (arg[0] if isinstance(arg, list) and arg else None)
                    if target not in resources:
                        raise TemplateError(f"Template error: instance of Fn::GetAtt references undefined resource {target}")
                if key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    names = set(arg[1]) if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict) else set()
                    if isinstance(text, str):
                        for name in _SUB_VAR.findall(text):
                            if not name.startswith("!") and name not in names and name.split(".", 1)[0] not in known:
                                raise TemplateError(f"Template format error: Unresolved resource dependencies [{name}] in the Resources block of the template")
                check(arg)

    check(resources)
    check(template.get("Outputs") or {})
    order(template, active)


def order(template: dict[str, Any], active: Callable[[str], bool]) -> list[str]:
    """Active resources in an order where each comes after what it depends on (template order otherwise)."""
    resources = template["Resources"]
    names = [name for name in resources if active(name)]
    deps: dict[str, set[str]] = {}
    for name in names:
        definition = resources[name]
        depends = definition.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else list(depends or [])
        for target in depends:
            if target not in resources:
                raise TemplateError(f"Template format error: Unresolved resource dependencies [{target}] in the Resources block of the template")
        wanted = references({k: v for k, v in definition.items() if k in ("Properties", "Metadata")}, resources) | set(depends)
        wanted.discard(name)
        inactive = [t for t in wanted if not active(t) and t in depends]
        if inactive:
            raise TemplateError(f"Template format error: Unresolved resource dependencies [{inactive[0]}] in the Resources block of the template")
        deps[name] = {t for t in wanted if active(t)}
    done: list[str] = []
    remaining = list(names)
    while remaining:
        ready = [n for n in remaining if deps[n] <= set(done)]
        if not ready:
            raise TemplateError(f"Circular dependency between resources: [{', '.join(sorted(remaining))}]")
        done.append(ready[0])
        remaining.remove(ready[0])
    return done
