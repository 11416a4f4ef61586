"""The differential corpus: template + declared inputs + variables, >= 300 cases. Each case is
(name, template, inputs, variables). `case()` declares an input for each variable from its
Python type unless inputs are given."""
import glob
import os

import yaml

CASES = []


def _decl(value):
    if isinstance(value, bool):
        return {"type": "boolean", "required": False}
    if isinstance(value, (int, float)):
        return {"type": "number", "required": False}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {"type": "array<string>", "required": False}
    if isinstance(value, dict):
        return {"type": "object", "required": False}
    return {"type": "string", "required": False}


def case(name, template, variables=None, inputs=None):
    variables = variables or {}
    if inputs is None:
        inputs = {k: _decl(v) for k, v in variables.items()}
    CASES.append((name, template, inputs, variables))


def _examples():
    here = os.path.dirname(os.path.abspath(__file__))
    # A copy of ../shared/seed-examples, committed so a clean clone has it.
    candidates = [os.environ.get("LMSTORE_SEED_EXAMPLES", ""),
                  os.path.join(here, "..", "fixtures", "seed-examples")]
    root = next((c for c in candidates if c and os.path.isdir(c)), candidates[1])
    files = sorted(glob.glob(os.path.join(root, "**", "*.y*ml"), recursive=True))
    return [yaml.safe_load(open(f, encoding="utf-8")) for f in files]


SAMPLE_VARS = {
    "string": "Quantum computing: risks & \"hype\"",
    "number": 4,
    "boolean": True,
    "array<string>": ["first point", "second: with colon", "yes"],
    "object": {"email": "a@b.c", "phone": "555"},
}


def examples():
    found = _examples()
    assert len(found) >= 10, f"expected the ten seed examples, found {len(found)}"
    for spec in found:
        inputs = {n: {k: v for k, v in d.items() if k in ("type", "required", "default")}
                  for n, d in (spec.get("inputs") or {}).items()}
        full = {n: SAMPLE_VARS[d.get("type", "string")] for n, d in inputs.items()}
        required = {n: full[n] for n, d in inputs.items()
                    if d.get("required", True) and d.get("default") is None}
        case(f"example/{spec['id']}/all", spec["template"], full, inputs)
        case(f"example/{spec['id']}/required-only", spec["template"], required, inputs)
        case(f"example/{spec['id']}/nothing", spec["template"], {}, inputs)
    # The analyzer's branches.
    analyzer = next(s for s in found if s["id"] == "analyzer")
    inputs = {n: {k: v for k, v in d.items() if k in ("type", "required", "default")}
              for n, d in analyzer["inputs"].items()}
    for kind in ("sentiment", "technical", "business", "other"):
        case(f"example/analyzer/{kind}", analyzer["template"],
             {"content": "Text", "analysis_type": kind}, inputs)
    report = next(s for s in found if s["id"] == "report_template")
    rinputs = {n: {k: v for k, v in d.items() if k in ("type", "required", "default")}
               for n, d in report["inputs"].items()}
    case("example/report/with-sections", report["template"],
         {"title": "T", "timestamp": "now", "executive_summary": "S", "insights": ["a", "b"],
          "sections": ["one"], "recommendations": ["r"]}, rinputs)


def constructs():
    c = case
    c("text/plain", "Hello, world")
    c("text/trailing-newline-dropped", "line\n")
    c("text/two-trailing-newlines", "line\n\n")
    c("text/crlf", "a\r\nb\r\n")
    c("text/empty", "")
    c("var/string", "{{ s }}", {"s": "x"})
    c("var/expr-spaces", "{{s}}|{{  s  }}", {"s": "x"})
    c("if/true", "{% if b %}yes{% endif %}", {"b": True})
    c("if/false", "{% if b %}yes{% endif %}", {"b": False})
    c("if/elif-else", "{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}", {"n": 3})
    c("if/trim-blocks", "{% if b %}\n  yes\n{% endif %}\nend", {"b": True})
    c("if/lstrip-blocks", "  {% if b %}\n  yes\n  {% endif %}\nend", {"b": True})
    c("if/not", "{% if not b %}no{% endif %}", {"b": False})
    c("if/and-or", "{{ a and b }} {{ a or b }} {{ not a }}", {"a": True, "b": False})
    c("if/empty-list-false", "{% if l %}some{% else %}none{% endif %}", {"l": []})
    c("if/empty-string-false", "{% if s %}some{% else %}none{% endif %}", {"s": ""})
    c("if/none-false", "{% if s %}some{% else %}none{% endif %}", {"s": None})
    c("if/zero-false", "{% if n %}some{% else %}zero{% endif %}", {"n": 0})
    c("for/basic", "{% for x in l %}[{{ x }}]{% endfor %}", {"l": ["a", "b"]})
    c("for/else", "{% for x in l %}{{ x }}{% else %}empty{% endfor %}", {"l": []})
    c("for/if-filter", "{% for x in l if x != 'b' %}{{ x }}{% endfor %}", {"l": ["a", "b", "c"]})
    c("for/if-else", "{% for x in l if x == 'z' %}{{ x }}{% else %}none{% endfor %}",
      {"l": ["a"]})
    c("for/loop-vars",
      "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
      "{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
      {"l": ["a", "b", "c"]})
    c("for/loop-cycle", "{% for x in l %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
      {"l": ["a", "b", "c"]})
    c("for/nested", "{% for a in l %}{% for b in l %}{{ a }}{{ b }} {% endfor %}{% endfor %}",
      {"l": ["x", "y"]})
    c("for/nested-loop-index",
      "{% for a in l %}{% for b in l %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}",
      {"l": ["x", "y"]})
    c("for/dict-items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
      {"d": {"b": 1, "a": 2, "c": 3}})
    c("for/dict-keys", "{% for k in d %}{{ k }};{% endfor %}", {"d": {"z": 1, "a": 2}})
    c("for/dict-values", "{% for v in d.values() %}{{ v }};{% endfor %}", {"d": {"z": 1, "a": 2}})
    c("for/range", "{% for i in range(3) %}{{ i }}{% endfor %}")
    c("for/range-step", "{% for i in range(10, 0, -3) %}{{ i }},{% endfor %}")
    c("for/string", "{% for ch in s %}{{ ch }}-{% endfor %}", {"s": "héllo"})
    c("for/unpack-list", "{% for a, b in d.pairs %}{{ a }}{{ b }};{% endfor %}",
      {"d": {"pairs": [["x", 1], ["y", 2]]}})
    c("for/loop-previtem",
      "{% for x in l %}{% if not loop.first %}{{ loop.previtem }}>{% endif %}{{ x }} "
      "{% endfor %}", {"l": ["a", "b", "c"]})
    c("for/loop-changed",
      "{% for x in l %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}",
      {"l": ["a", "a", "b"]})
    c("for/recursive",
      "{% for n in d.tree recursive %}{{ n.name }}{% if n.kids %}({{ loop(n.kids) }}){% endif %}"
      "{% endfor %}",
      {"d": {"tree": [{"name": "a", "kids": [{"name": "b", "kids": []}]}, {"name": "c",
                                                                          "kids": []}]}})
    c("set/basic", "{% set x = 5 %}{{ x * 2 }}")
    c("set/block", "{% set x %}inner {{ s }}{% endset %}[{{ x }}]", {"s": "v"})
    c("set/scoping-loop", "{% set c = 0 %}{% for x in l %}{% set c = c + 1 %}{% endfor %}{{ c }}",
      {"l": ["a", "b"]})
    c("set/namespace",
      "{% set ns = namespace(c=0) %}{% for x in l %}{% set ns.c = ns.c + 1 %}{% endfor %}"
      "{{ ns.c }}", {"l": ["a", "b"]})
    c("set/multiple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}")
    c("append/input-list", "{% set _ = l.append('z') %}{{ l }}|{{ l|length }}", {"l": ["a"]})
    c("append/in-loop", "{% for x in l %}{% set _ = out.append(x|upper) %}{% endfor %}{{ out }}",
      {"l": ["a", "b"], "out": []})
    c("append/nested-list", "{% set _ = d.xs.append(3) %}{{ d.xs }}", {"d": {"xs": [1, 2]}})
    c("append/literal", "{% set xs = [] %}{% set _ = xs.append(1) %}{{ xs }}")
    c("macro/basic", "{% macro greet(n) %}Hi {{ n }}!{% endmacro %}{{ greet('a') }}{{ greet(s) }}",
      {"s": "b"})
    c("macro/defaults", "{% macro f(a, b='d') %}{{ a }}-{{ b }}{% endmacro %}{{ f(1) }} {{ f(1, 2) }}"
      " {{ f(a=3, b=4) }}")
    c("macro/caller", "{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}in"
      "{% endcall %}")
    c("macro/varargs", "{% macro f() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, k=3) }}")
    c("filter-block", "{% filter upper %}shout {{ s }}{% endfilter %}", {"s": "it"})
    c("raw", "{% raw %}{{ not rendered }}{% endraw %}")
    c("comment", "a{# hidden #}b")
    c("comment/block-line", "a\n{# hidden #}\nb")
    c("with", "{% with a = 1, b = s %}{{ a }}{{ b }}{% endwith %}", {"s": "x"})
    c("ws/minus-left", "a   {{- s }}", {"s": "x"})
    c("ws/minus-right", "{{ s -}}   b", {"s": "x"})
    c("ws/block-minus", "a\n  {%- if true -%}\n  b\n  {%- endif %}\nc")
    c("ws/plus-disables-lstrip", "  {%+ if true %}x{% endif %}")
    c("ws/indent-kept-for-vars", "  {{ s }}\n  {{ s }}", {"s": "v"})
    c("ws/for-lines", "items:\n{% for x in l %}\n  - {{ x }}\n{% endfor %}\ndone",
      {"l": ["a", "b"]})
    c("ws/comment-trim", "a\n{# c #}\nb\n")
    c("ws/tabs", "\t{% if true %}\tx{% endif %}")
    c("expr/math", "{{ 1 + 2 }} {{ 7 - 10 }} {{ 2 * 3.5 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 3 }}"
      " {{ 2 ** 10 }} {{ -7 // 2 }} {{ -7 % 3 }}")
    c("expr/int-division-float", "{{ 6 / 3 }} {{ 1 / 3 }}")
    c("expr/compare", "{{ 1 < 2 }} {{ 2 <= 1 }} {{ 'a' == 'a' }} {{ 1 != 1.0 }} {{ 1 == 1.0 }}")
    c("expr/in", "{{ 'a' in l }} {{ 'z' not in l }} {{ 'ell' in 'hello' }} {{ 'k' in d }}",
      {"l": ["a"], "d": {"k": 1}})
    c("expr/concat", "{{ 'a' ~ 1 ~ s }} {{ 'a' + 'b' }}", {"s": "c"})
    c("expr/concat-bool-float", "{{ 'x' ~ b ~ f }}", {"b": True, "f": 1.5})
    c("expr/concat-none", "{{ 'x' ~ n }}", {"n": None})
    c("expr/ternary", "{{ 'y' if b else 'n' }}", {"b": False})
    c("expr/ternary-no-else", "[{{ 'y' if b }}]", {"b": False})
    c("expr/list-literal", "{{ [1, 'a', none, true, 2.5] }}")
    c("expr/dict-literal", "{{ {'a': 1, 'b': [true]} }}")
    c("expr/tuple", "{{ (1, 2) }}")
    c("expr/slice", "{{ s[1:3] }} {{ s[::-1] }} {{ l[-1] }} {{ l[:1] }}",
      {"s": "hello", "l": ["a", "b"]})
    c("expr/item-attr", "{{ d['a'] }} {{ d.a }} {{ d.get('zz', 'dflt') }} {{ d.get('a') }}",
      {"d": {"a": 1}})
    c("expr/nested-access", "{{ d.a.b[1].c }}", {"d": {"a": {"b": [0, {"c": "deep"}]}}})
    c("expr/string-escapes", "{{ 'it\\'s' }} {{ \"q\\\"q\" }} {{ 'tab\\there' }}")
    c("expr/literals-case", "{{ True }} {{ False }} {{ None }} {{ true }} {{ none }}")
    c("expr/neg-and-precedence", "{{ -2 ** 2 }} {{ (1 + 2) * 3 }} {{ 2 + 3 * 4 }}")
    c("expr/string-mul", "{{ '-' * 5 }}")
    c("expr/list-add", "{{ [1] + [2] }}")


def printing():
    c = case
    floats = [5.0, 0.1, 1e16, 1e-05, 1.5e300, 123456789012345.6, 1234567890123456.7, 0.0001,
              1e22, 3.14159, -0.0, 2.5e-10, 100.0, 1.0 / 3]
    for i, f in enumerate(floats):
        c(f"print/float-{i}", "{{ x }}", {"x": f})
    for i, n in enumerate([0, -1, 3, 2**53, -(2**40), 10**18]):
        c(f"print/int-{i}", "{{ x }}", {"x": n})
    c("print/bools", "{{ t }} {{ f }}", {"t": True, "f": False})
    c("print/none", "{{ n }}", {"n": None})
    c("print/list", "{{ l }}", {"l": ["a", "b's", 'q"d', "both'\""]})
    c("print/list-unicode", "{{ l }}", {"l": ["é", "日本", "😀", "\u200d", "\x85", "\t\n"]})
    c("print/dict", "{{ d }}", {"d": {"k": "v", "n": 1, "f": 2.5, "b": False, "z": None,
                                      "l": [1, "x"], "m": {"in": {}}}})
    c("print/empty", "{{ l }} {{ d }}", {"l": [], "d": {}})
    c("print/dict-in-list", "{{ d.xs }}", {"d": {"xs": [{"a": 1}, [], {}]}})
    c("print/string-filter", "{{ t|string }} {{ n|string }} {{ f|string }}",
      {"t": True, "n": None, "f": 0.5})
    c("print/join-mixed", "{{ d.xs|join(', ') }}", {"d": {"xs": [1, 2.0, True, None, "s"]}})
    c("print/float-math", "{{ 0.1 + 0.2 }} {{ 1e16 + 1 }} {{ 10 / 4 }}")
    c("print/large-int-float", "{{ x * 1.0 }}", {"x": 2**60})


FILTERS = [
    ("abs", "{{ -3|abs }} {{ -2.5|abs }}"),
    ("attr", "{{ d|attr('a') }}"),
    ("batch", "{{ d.xs|batch(2)|list }}"),
    ("batch-fill", "{{ d.xs|batch(2, 'x')|list }}"),
    ("capitalize", "{{ 'hELLO world'|capitalize }}"),
    ("center", "[{{ 'ab'|center(7) }}]"),
    ("count", "{{ d.xs|count }}"),
    ("default-none", "{{ n|default('fb') }}"),
    ("default-empty-list", "{{ e|default('fb') }}"),
    ("default-empty-dict", "{{ m|default('fb') }}"),
    ("default-zero", "{{ 0|default('fb') }}"),
    ("default-false", "{{ false|default('fb') }}"),
    ("default-no-arg", "[{{ n|default }}]"),
    ("default-d", "{{ n|d('alias') }}"),
    ("default-undefined", "{{ missing|default('fb') }}"),
    ("default-true-arg", "{{ n|default('fb', true) }}"),
    ("dictsort", "{{ d|dictsort }}"),
    ("dictsort-value", "{{ d|dictsort(by='value') }}"),
    ("dictsort-reverse", "{{ d|dictsort(reverse=true) }}"),
    ("escape", "{{ '<a href=\"x\">&</a>'|escape }}"),
    ("e", "{{ '<b>'|e }}"),
    ("filesizeformat", "{{ 1000000|filesizeformat }} {{ 1024|filesizeformat(true) }}"),
    ("first", "{{ d.xs|first }}"),
    ("float", "{{ '3.5'|float }} {{ 'x'|float }} {{ 2|float }}"),
    ("forceescape", "{{ '<i>'|forceescape }}"),
    ("format", "{{ '%s is %d years, %.2f%%'|format('Ann', 30, 99.5) }}"),
    ("format-repr", "{{ '%r|%5s|%-5s|'|format('a', 'b', 'c') }}"),
    ("format-operator", "{{ '%s-%s' % ('a', 'b') }}"),
    ("groupby", "{% for g in d.people|groupby('city') %}{{ g.grouper }}:"
                "{{ g.list|map(attribute='name')|join(',') }};{% endfor %}"),
    ("indent", "{{ 'a\nb\nc'|indent }}"),
    ("indent-first", "{{ 'a\nb'|indent(2, true) }}"),
    ("indent-blank", "{{ 'a\n\nb'|indent(2, blank=true) }}"),
    ("int", "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 3.9|int }} {{ '0x1A'|int(base=16) }}"),
    ("items", "{{ d|items|list }}"),
    ("join", "{{ d.xs|join }}|{{ d.xs|join('-') }}"),
    ("join-attr", "{{ d.people|join(', ', attribute='name') }}"),
    ("last", "{{ d.xs|last }}"),
    ("length", "{{ d.xs|length }} {{ 'héllo'|length }} {{ d|length }}"),
    ("list", "{{ 'abc'|list }}"),
    ("lower", "{{ 'ÀBC'|lower }}"),
    ("map-filter", "{{ d.xs|map('string')|join(',') }}"),
    ("map-attr", "{{ d.people|map(attribute='name')|list }}"),
    ("max", "{{ d.xs|max }} {{ [3, 9, 1]|max }}"),
    ("min", "{{ [3, 9, 1]|min }}"),
    ("pprint", "{{ d|pprint }}"),
    ("reject", "{{ [1, 2, 3, 4]|reject('odd')|list }}"),
    ("rejectattr", "{{ d.people|rejectattr('city', 'equalto', 'Oslo')|map(attribute='name')"
                   "|list }}"),
    ("replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }}"),
    ("reverse", "{{ 'abc'|reverse }} {{ [1, 2]|reverse|list }}"),
    ("round", "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 7|round }}"
              " {{ 1.25|round(1) }} {{ -0.5|round }}"),
    ("round-methods", "{{ 2.1|round(method='ceil') }} {{ 2.9|round(0, 'floor') }}"),
    ("safe", "{{ '<b>'|safe }}"),
    ("select", "{{ [1, 2, 3]|select('odd')|list }} {{ [0, 1, '']|select|list }}"),
    ("selectattr", "{{ d.people|selectattr('city', 'equalto', 'Oslo')|map(attribute='name')"
                   "|list }}"),
    ("slice", "{{ [1, 2, 3, 4, 5]|slice(2)|list }}"),
    ("sort", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ [3, 1]|sort(reverse=true) }}"),
    ("sort-attr", "{{ d.people|sort(attribute='name')|map(attribute='name')|list }}"),
    ("string", "{{ 5|string }} {{ [1]|string }}"),
    ("striptags", "{{ '<p>a  <b>b</b>\n c</p>'|striptags }}"),
    ("sum", "{{ [1, 2, 3]|sum }} {{ [0.5, 0.25]|sum }} {{ d.people|sum(attribute='age') }}"),
    ("title", "{{ 'hello wORLD-x'|title }}"),
    ("tojson", "{{ d|tojson }}"),
    ("tojson-indent", "{{ d|tojson(indent=2) }}"),
    ("tojson-unicode", "{{ 'é<\\'&>'|tojson }}"),
    ("trim", "[{{ '  x  '|trim }}] [{{ 'xxaxx'|trim('x') }}]"),
    ("truncate-positional", "{{ 'The quick brown fox jumps over the lazy dog'|truncate(20, true, '…') }}"),
    ("truncate-words", "{{ 'The quick brown fox jumps over the lazy dog'|truncate(20) }}"),
    ("truncate-leeway", "{{ 'abcdefghijkl'|truncate(10) }} {{ 'abcdefghijklmnop'|truncate(10) }}"),
    ("truncate-kw", "{{ 'The quick brown fox'|truncate(length=9, end='>') }}"),
    ("truncate-short", "{{ 'short'|truncate(3) }}"),
    ("unique", "{{ ['a', 'A', 'b', 'a']|unique|list }}"),
    ("upper", "{{ 'straße'|upper }}"),
    ("urlencode", "{{ 'a b&c/é'|urlencode }}"),
    ("urlize", "{{ 'see https://example.com now'|urlize }}"),
    ("wordcount", "{{ 'one two  three'|wordcount }}"),
    ("wordwrap", "{{ 'a b c d e f g h i j'|wordwrap(5) }}"),
    ("xmlattr", "<a{{ {'href': 'x', 'id': 1}|xmlattr }}>"),
    ("yaml-list", "{{ d.xs|yaml }}"),
    ("yaml-dict", "{{ d|yaml }}"),
    ("yaml-scalar", "{{ 'x'|yaml }} {{ 5.0|yaml }} {{ true|yaml }} {{ n|yaml }}"),
    ("yaml-empty", "{{ e|yaml }}|{{ m|yaml }}"),
    ("chained", "{{ d.people|map(attribute='name')|map('upper')|sort|join(' & ') }}"),
]

FILTER_VARS = {
    "d": {"a": 1, "b": 3, "xs": ["b", "a", "c"],
          "people": [{"name": "Ann", "city": "Oslo", "age": 30},
                     {"name": "Bob", "city": "Rome", "age": 25},
                     {"name": "Cid", "city": "Oslo", "age": 41}]},
    "n": None, "e": [], "m": {},
}


def filters():
    for name, tpl in FILTERS:
        case(f"filter/{name}", tpl, dict(FILTER_VARS))


TESTS = ["boolean", "callable", "defined", "undefined", "none", "number", "integer", "float",
         "string", "mapping", "sequence", "iterable", "true", "false", "lower", "upper"]


def tests():
    values = {"s": "abc", "u": "ABC", "i": 3, "f": 2.5, "b": True, "l": ["x"], "d": {"k": 1},
              "n": None}
    for t in TESTS:
        tpl = " ".join(f"{{{{ {v} is {t} }}}}" for v in values) + " {{ missing is " + t + " }}"
        if t not in ("defined", "undefined"):
            tpl = " ".join(f"{{{{ {v} is {t} }}}}" for v in values)
        case(f"test/{t}", tpl, dict(values))
    c = case
    c("test/divisibleby", "{{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }}")
    c("test/even-odd", "{{ 2 is even }} {{ 3 is odd }} {{ 3 is even }}")
    c("test/eq-ne", "{{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 1 is equalto 1 }}")
    c("test/lt-gt", "{{ 1 is lt 2 }} {{ 1 is gt 2 }} {{ 2 is le 2 }} {{ 2 is ge 3 }}")
    c("test/in", "{{ 'a' is in ['a'] }}")
    c("test/sameas", "{{ n is sameas none }} {{ b is sameas true }}", {"n": None, "b": True})
    c("test/filter-test", "{{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}")
    c("test/escaped", "{{ '<'|e is escaped }} {{ 'x' is escaped }}")
    c("test/not", "{{ n is not none }} {{ s is not string }}", {"n": None, "s": "x"})


def methods():
    c = case
    s = {"s": "  Hello, World  "}
    for m in ["upper()", "lower()", "strip()", "lstrip()", "rstrip()", "title()",
              "capitalize()", "split()", "split(',')", "replace('l', 'L')",
              "startswith('  He')", "endswith('x')", "find('o')", "count('l')",
              "strip().split(', ')", "isalpha()", "isdigit()", "splitlines()", "swapcase()",
              "center(20, '*')", "zfill(20)", "rsplit(',', 1)", "partition(',')"]:
        c(f"method/str-{m}", "{{ s." + m + " }}", dict(s))
    c("method/str-format", "{{ '{} and {}'.format('a', 1) }} {{ '{x}!'.format(x=s) }}", {"s": "v"})
    c("method/str-join", "{{ ', '.join(l) }}", {"l": ["a", "b"]})
    c("method/dict-items", "{{ d.items()|list }}", {"d": {"b": 1, "a": 2}})
    c("method/dict-keys-values", "{{ d.keys()|list }} {{ d.values()|list }}", {"d": {"b": 1, "a": 2}})
    c("method/dict-get", "{{ d.get('a') }} {{ d.get('x') }} {{ d.get('x', 0) }}", {"d": {"a": 1}})
    c("method/list-count-index", "{{ l.count('a') }} {{ l.index('b') }}", {"l": ["a", "b", "a"]})
    c("method/list-pop", "{{ l.pop() }} {{ l }}", {"l": ["a", "b"]})
    c("method/list-insert-extend", "{% set _ = l.insert(0, 'z') %}{% set _ = l.extend(['y']) %}"
      "{{ l }}", {"l": ["a"]})


def inputs():
    c = case
    S = {"x": {"type": "string", "required": True}}
    N = {"x": {"type": "number", "required": True}}
    B = {"x": {"type": "boolean", "required": True}}
    A = {"x": {"type": "array<string>", "required": True}}
    O = {"x": {"type": "object", "required": True}}
    for i, v in enumerate(["text", True, False, 5, 5.0, 0.1, 1e16, ["a", "b"], {"k": "v"},
                           {"k": [1, None]}, "", "é😀", 2**63 - 1, -3]):
        c(f"input/string-{i}", "[{{ x }}] {{ x|length }}", {"x": v}, S)
    for i, v in enumerate(["5", "1e3", " 2.5 ", "inf", "-Infinity", "nan", "1_000", "+3",
                           ".5", "5.", "abc", "", " ", "1,5", "0x10", True, False, 3, 3.0,
                           -0.5, ["1"], {"a": 1}, "١٢", "1e400", "1__0"]):
        c(f"input/number-{i}", "{{ x }}", {"x": v}, N)
    for i, v in enumerate([True, False, "true", "TRUE", "yes", "Y", "1", "0", "no", "banana",
                           "", 0, 1, -1, 0.0, 0.5, ["x"], {"a": 1}]):
        c(f"input/boolean-{i}", "{{ x }}{% if x %} on{% endif %}", {"x": v}, B)
    for i, v in enumerate(["one", ["a", "b"], [], ["a", 1], [None], {"a": "b"}, 5, True, ""]):
        c(f"input/array-{i}", "{{ x }} {{ x|length }}", {"x": v}, A)
    for i, v in enumerate([{"a": 1}, {}, {"n": {"deep": [1, 2]}}, '{"a": 1}', ["a"], 5, True,
                           "x"]):
        c(f"input/object-{i}", "{{ x }}", {"x": v}, O)
    for ty in ("string", "number", "boolean", "array<string>", "object"):
        c(f"input/null-{ty}", "[{{ x }}]", {"x": None}, {"x": {"type": ty, "required": True}})
        c(f"input/missing-{ty}", "[{{ x }}]", {}, {"x": {"type": ty, "required": True}})
        c(f"input/optional-{ty}", "[{{ x }}]", {}, {"x": {"type": ty, "required": False}})
    c("input/default-used", "{{ x }} {{ y }} {{ z }}", {},
      {"x": {"type": "string", "default": "dx"}, "y": {"type": "number", "default": 2.5},
       "z": {"type": "array<string>", "default": ["a"]}})
    c("input/default-object", "{{ x }}", {},
      {"x": {"type": "object", "required": False, "default": {"email": "e", "phone": "p"}}})
    c("input/default-object-unsorted", "{{ x }}", {},
      {"x": {"type": "object", "required": False, "default": {"z": 1, "a": 2}}})
    c("input/default-not-required-null", "[{{ x }}]", {},
      {"x": {"type": "string", "required": False, "default": None}})
    c("input/required-with-default", "{{ x }}", {},
      {"x": {"type": "string", "required": True, "default": "d"}})
    c("input/given-overrides-default", "{{ x }}", {"x": "given"},
      {"x": {"type": "string", "default": "d"}})
    c("input/default-coerced-number", "{{ x }}", {},
      {"x": {"type": "number", "default": 3}})
    c("input/extra-dropped", "{{ x }}", {"x": "a", "y": "b"}, {"x": {"type": "string"}})
    c("input/extra-named-like-used", "{{ x }}{{ y }}", {"x": "a", "y": "b"},
      {"x": {"type": "string"}})
    c("input/default-type-string", "{{ x }}", {"x": 5}, {"x": {}})
    c("input/first-error-wins", "x", {},
      {"a": {"type": "string"}, "b": {"type": "number"}})
    c("input/map-order", "{% for k, v in x.items() %}{{ k }};{% endfor %}",
      {"x": {"zeta": 1, "alpha": 2, "mid": 3}}, O)


def unicode_cases():
    c = case
    texts = ["日本語テキスト", "مرحبا بالعالم", "👨‍👩‍👧‍👦 family", "e\u0301 combining", "line\u0085nel",
             "tab\there", "crlf\r\nline", "ünïcödé", "\u2028sep", "Ωmega"]
    for i, t in enumerate(texts):
        c(f"unicode/text-{i}", "«{{ s }}»|{{ s|upper }}|{{ s|length }}|{{ s|truncate(8, true) }}",
          {"s": t})
        c(f"unicode/repr-{i}", "{{ l }}", {"l": [t]})
    c("unicode/template-text", "Ünïcode ✓ {{ s }} 🚀\n", {"s": "ok"})
    c("unicode/dict-keys", "{% for k in d %}{{ k }};{% endfor %}", {"d": {"ключ": 1, "鍵": 2}})


def failing():
    c = case
    c("fail/undefined", "Hello {{ audience }}")
    c("fail/undefined-if", "{% if audience %}x{% endif %}")
    c("fail/undefined-attr", "{{ u.tier }}", {"u": {"name": "a"}})
    c("fail/undefined-item", "{{ u['tier'] }}", {"u": {"name": "a"}})
    c("fail/undefined-index", "{{ u.xs[5] }}", {"u": {"xs": []}})
    c("fail/undefined-nested", "{{ u.a.b }}", {"u": {"a": {}}})
    c("fail/undefined-in-loop", "{% for x in u.l %}{{ x.missing }}{% endfor %}",
      {"u": {"l": [{"a": 1}]}})
    c("fail/undefined-in-filter", "{{ audience|upper }}")
    c("fail/undefined-yaml", "{{ audience|yaml }}")
    c("fail/undefined-iterate", "{% for x in missing %}{% endfor %}")
    c("fail/undefined-line3", "a\nb\n{{ nope }}")
    c("fail/none-iterate", "{% for x in n %}{% endfor %}", {"n": None})
    c("fail/none-attr", "{{ n.x }}", {"n": None})
    c("fail/none-length", "{{ n|length }}", {"n": None})
    c("fail/div-zero", "{{ 1 / 0 }}")
    c("fail/floordiv-zero", "{{ 1 // 0 }}")
    c("fail/mod-zero", "{{ 1 % 0 }}")
    c("fail/float-div-zero", "{{ 1.5 / 0 }}")
    c("fail/syntax-unclosed", "{% if x %}")
    c("fail/syntax-bad-expr", "{{ 1 + }}")
    c("fail/syntax-unknown-tag", "{% frobnicate %}")
    c("fail/syntax-endfor", "{% endfor %}")
    c("fail/unknown-filter", "{{ 'x'|frobnicate }}")
    c("fail/unknown-test", "{{ 1 is frobnicate }}")
    c("fail/call-undefined", "{{ nope() }}")
    c("fail/int-plus-str", "{{ 1 + 'a' }}")
    c("fail/truncate-too-short", "{{ 'abcdef'|truncate(2) }}")
    c("fail/break-not-enabled", "{% for x in l %}{% break %}{% endfor %}", {"l": ["a"]})
    c("fail/iterate-int", "{% for x in 5 %}{% endfor %}")
    c("fail/undefined-default-chain", "{{ u.missing|default('x') }}", {"u": {"a": 1}})


def build():
    examples()
    constructs()
    printing()
    filters()
    tests()
    methods()
    inputs()
    unicode_cases()
    failing()
    return CASES
