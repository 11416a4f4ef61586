package lmstore_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

func TestRender(t *testing.T) {
	db := openTemp(t, nil)
	put := must[lmstore.PutOutcome](t)
	inputs := map[string]lmstore.Input{
		"topic": {},
		"n":     {Type: lmstore.InputNumber, Optional: true, Default: 3},
		"tags":  {Type: lmstore.InputStringArray, Optional: true},
	}
	put(db.PutTemplate(lmstore.Template{ID: "plan", Version: "1", Inputs: inputs,
		Text: "Topic: {{ topic }} x{{ n }}\n{% if tags %}Tags:\n{{ tags|yaml }}{% endif %}"}))
	put(db.PutTemplate(lmstore.Template{ID: "plan", Version: "2", Inputs: inputs,
		Text: "v2 {{ topic|upper }} {{ n }} {{ tags }}"}))
	if err := db.SetTemplateAlias("plan", "prod", "1"); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"topic": "LMDB", "n": "2.5", "tags": []string{"yes", "a: b"}, "extra": 1}
	text := must[string](t)
	if got := text(db.Render("plan", vars)); got != "v2 LMDB 2.5 ['yes', 'a: b']" {
		t.Fatalf("Render = %q", got)
	}
	want := "Topic: LMDB x2.5\nTags:\n- 'yes'\n- 'a: b'"
	if got := text(db.RenderVersion("plan", "1", vars)); got != want {
		t.Fatalf("RenderVersion = %q", got)
	}
	if got := text(db.RenderAlias("plan", "prod", vars)); got != want {
		t.Fatalf("RenderAlias = %q", got)
	}
	if got := text(db.RenderVersion("plan", "1", map[string]any{"topic": "t"})); got != "Topic: t x3\n" {
		t.Fatalf("defaults: %q", got)
	}
	// A text larger than the pooled buffer.
	big := strings.Repeat("é", 5000)
	if got := text(db.Render("plan", map[string]any{"topic": big})); got != "v2 "+strings.Repeat("É", 5000)+" 3 None" {
		t.Fatalf("big render: %d bytes", len(got))
	}

	_, err := db.Render("plan", nil)
	wantErr(t, err, lmstore.ErrInput)
	var e *lmstore.Error
	if !errors.As(err, &e) || e.Code != lmstore.CodeInput || e.Msg != "missing input: topic" {
		t.Fatalf("missing input: %#v", err)
	}
	_, err = db.Render("plan", map[string]any{"topic": "t", "n": "abc"})
	if !errors.Is(err, lmstore.ErrInput) || !strings.Contains(err.Error(), "could not convert string to float: 'abc'") {
		t.Fatalf("bad number: %v", err)
	}
	_, err = db.Render("plan", map[string]any{"topic": "t", "tags": []any{1}})
	if !errors.Is(err, lmstore.ErrInput) || !strings.Contains(err.Error(), "type mismatch for 'tags': expected array<string>") {
		t.Fatalf("bad array: %v", err)
	}
	put(db.PutTemplate(lmstore.Template{ID: "fails", Version: "7", Text: "a\n{{ audience }}"}))
	_, err = db.Render("fails", nil)
	if !errors.Is(err, lmstore.ErrRender) || !strings.Contains(err.Error(), "'audience' is undefined (template 'fails' version '7', line 2)") {
		t.Fatalf("undefined: %v", err)
	}
	_, err = db.Render("nope", nil)
	wantErr(t, err, lmstore.ErrNotFound)
	_, err = db.RenderAlias("plan", "staging", vars)
	wantErr(t, err, lmstore.ErrNotFound)
	_, err = db.RenderVersion("plan", "", vars)
	wantErr(t, err, lmstore.ErrInvalidArgument)
	_, err = db.RenderAlias("plan", "", vars)
	wantErr(t, err, lmstore.ErrInvalidArgument)
	_, err = db.Render("plan", map[string]any{"topic": make(chan int)})
	wantErr(t, err, lmstore.ErrInvalidArgument)

	_, err = db.PutTemplate(lmstore.Template{ID: "broken", Text: "{% if x %}"})
	if !errors.Is(err, lmstore.ErrRender) || !strings.Contains(err.Error(), "does not compile") {
		t.Fatalf("put of a broken template: %v", err)
	}

	db.Close()
	_, err = db.Render("plan", vars)
	wantErr(t, err, lmstore.ErrClosed)
}

func TestRenderPreview(t *testing.T) {
	tpl := lmstore.Template{ID: "p", Text: "{% for x in xs %}{{ loop.index }}={{ x }} {% endfor %}{{ f }}",
		Inputs: map[string]lmstore.Input{"xs": {Type: lmstore.InputObject}, "f": {Type: lmstore.InputBoolean}}}
	got, err := lmstore.RenderPreview(tpl, map[string]any{"xs": map[string]any{"k": 1}, "f": "yes"})
	if err != nil || got != "1=k True" {
		t.Fatalf("preview = %q, %v", got, err)
	}
	_, err = lmstore.RenderPreview(lmstore.Template{ID: "p", Text: "{{ 1 // 0 }}"}, nil)
	if !errors.Is(err, lmstore.ErrRender) || !strings.Contains(err.Error(), "integer division or modulo by zero") {
		t.Fatalf("preview failure: %v", err)
	}
}

// BenchmarkRender renders the seed examples of tests/render/bench_cases.json (the C ABI figure
// for the same cases is printed by `cargo bench --bench render`; docs/benchmarks.md compares).
func BenchmarkRender(b *testing.B) {
	raw, err := os.ReadFile("../../tests/render/bench_cases.json")
	if err != nil {
		b.Fatal(err)
	}
	var cases []struct {
		Spec struct {
			ID, Version, Template string
			Inputs                map[string]struct {
				Type     string
				Required *bool
				Default  any
			}
		}
		Vars map[string]any
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		b.Fatal(err)
	}
	db := openTemp(b, &lmstore.Options{NoSync: true})
	for _, c := range cases {
		inputs := map[string]lmstore.Input{}
		for n, in := range c.Spec.Inputs {
			inputs[n] = lmstore.Input{Type: lmstore.InputType(in.Type), Optional: in.Required != nil && !*in.Required, Default: in.Default}
		}
		if _, err := db.PutTemplate(lmstore.Template{ID: c.Spec.ID, Version: c.Spec.Version, Text: c.Spec.Template, Inputs: inputs}); err != nil {
			b.Fatal(err)
		}
		b.Run(c.Spec.ID, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := db.Render(c.Spec.ID, c.Vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
