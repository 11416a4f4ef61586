"""Corpus cases whose lmstore result cannot match Jinja2's, each with the reason. diff.py
reports every one on every run and fails when one starts matching (so the list stays true).
docs/render.md carries the same list for readers."""

_ORDER = ("inputs are stored as a map with sorted keys (docs/format.md), so the declaration "
          "order is gone: with several missing inputs lmstore names the first in key order")
_STR_ATTR = ("`section.title` on a string is Python's bound method `str.title`, which Jinja2 "
             "prints as `<built-in method title of str object at 0x...>` (a memory address); "
             "lmstore fails there with the attribute error instead")

KNOWN = {
    "example/analyst_system/nothing": _ORDER,
    "example/report_template/nothing": _ORDER,
    "example/report_template/all": _STR_ATTR,
    "example/report/with-sections": _STR_ATTR,
    "input/default-object-unsorted": ("defaults are stored canonically with sorted keys, so an "
                                      "object default prints in key order"),
    "append/literal": ("minijinja builds list literals as immutable values; `append` works on "
                       "every list that comes from the variables (and their nested lists), "
                       "and a literal's append fails with a message saying so"),
    "macro/varargs": "minijinja macros have no `varargs`/`kwargs`",
    "expr/tuple": "minijinja has no tuple type: a tuple literal is a list and prints as one",
    "filter/format-operator": ("minijinja has no `%` string-formatting operator; the `format` "
                               "filter does the same formatting"),
    "filter/dictsort-value": ("minijinja orders values of different types totally where "
                              "Python refuses to compare a list with an int"),
    "filter/pprint": "Python's pprint layout (width 80, sorted keys) is not reproduced",
    "filter/urlize": "no `urlize` filter",
    "filter/wordwrap": ("Python's textwrap is not reproduced (minijinja-contrib's wordwrap "
                        "takes keywords only and wraps differently)"),
}
