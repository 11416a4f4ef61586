"""The reference renderer: promptlightning's environment and coercion exactly as
seed-formats.md §2 describes them, on real Jinja2 3.1 and PyYAML. The differential test renders
every corpus case with this and with lmstore and compares the bytes."""
import copy

import jinja2
import yaml


class InputError(Exception):
    """Raised before rendering: a missing input or a value of the wrong type."""


def _default(value, fallback=""):
    # `value in (...)` compares, so a StrictUndefined value raises instead of being rescued.
    if value is None or value in ("", [], {}):
        return fallback
    return value


def _yaml(value):
    if isinstance(value, (list, dict)):
        return yaml.dump(value, Dumper=yaml.CSafeDumper, sort_keys=False,
                         allow_unicode=True).rstrip()
    return str(value)


ENV = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True)
ENV.filters["default"] = _default
ENV.filters["d"] = _default
ENV.filters["yaml"] = _yaml


def _mismatch(name, ty):
    return InputError(f"type mismatch for '{name}': expected {ty}")


def coerce(inputs, variables):
    """Only declared inputs, in declaration order; defaults; types coerced as §2 says."""
    out = {}
    for name, spec in inputs.items():
        ty = spec.get("type", "string")
        default = spec.get("default")
        if name in variables:
            value = variables[name]
        elif spec.get("required", True) and default is None:
            raise InputError(f"missing input: {name}")
        else:
            value = copy.deepcopy(default)
        if value is None:
            out[name] = None
        elif ty == "string":
            out[name] = str(value)
        elif ty == "number":
            if isinstance(value, bool):
                raise _mismatch(name, ty)
            if isinstance(value, (int, float)):
                out[name] = value
            elif isinstance(value, str):
                try:
                    out[name] = float(value)
                except ValueError as e:
                    raise InputError(str(e)) from None
            else:
                raise _mismatch(name, ty)
        elif ty == "boolean":
            if isinstance(value, bool):
                out[name] = value
            elif isinstance(value, str):
                out[name] = value.lower() in ("1", "true", "yes", "y")
            elif isinstance(value, (int, float)):
                out[name] = value != 0
            else:
                raise _mismatch(name, ty)
        elif ty == "array<string>":
            if isinstance(value, str):
                out[name] = [value]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                out[name] = value
            else:
                raise _mismatch(name, ty)
        elif ty == "object":
            if isinstance(value, dict):
                out[name] = value
            else:
                raise _mismatch(name, ty)
    return out


def render(template, inputs, variables):
    """Returns ("ok", text) or (kind, message) with kind "input" or "render"."""
    try:
        ctx = coerce(inputs, variables)
    except InputError as e:
        return "input", str(e)
    try:
        return "ok", ENV.from_string(template).render(**ctx)
    except Exception as e:  # noqa: BLE001 - every failure inside the template is a render error
        return "render", str(e)
