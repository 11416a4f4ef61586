package lmstore

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"
	"unsafe"
)

// Template is one version of a prompt template. Every (ID, Version) is an immutable record.
type Template struct {
	ID          string
	Version     string // "" means "0.1.0" when putting
	Text        string // the template source, in Jinja2 syntax
	Description string // optional
	// Inputs declares the variables the template takes, by name.
	Inputs map[string]Input
	// Metadata is free-form (author, model, tags...). Decoded integers are int64 (uint64 when
	// larger than MaxInt64) and floats float64; an empty map decodes as nil.
	Metadata map[string]any
	// CreatedAt is set by the store when the version is put; it is ignored when putting.
	CreatedAt time.Time
}

// Input declares one template variable.
type Input struct {
	Type InputType // "" means InputString
	// Optional inputs may be left out when rendering. The spec's `required` is !Optional, so
	// that the zero Input is the spec's default (a required string).
	Optional    bool
	Default     any // optional; must match Type
	Description string
}

// InputType is the type of a template input, as the spec names it.
type InputType string

// The input types the store accepts.
const (
	InputString      InputType = "string"
	InputNumber      InputType = "number"
	InputBoolean     InputType = "boolean"
	InputStringArray InputType = "array<string>"
	InputObject      InputType = "object"
)

// PutOutcome says what PutTemplate or ReplaceTemplate did.
type PutOutcome int

const (
	// Created: a new version was stored.
	Created PutOutcome = 0
	// Unchanged: the version existed with identical content; nothing changed.
	Unchanged PutOutcome = 1
	// Replaced: the version existed with other content and was replaced (ReplaceTemplate).
	Replaced PutOutcome = 2
)

func (o PutOutcome) String() string {
	switch o {
	case Created:
		return "created"
	case Unchanged:
		return "unchanged"
	case Replaced:
		return "replaced"
	}
	return fmt.Sprintf("PutOutcome(%d)", int(o))
}

// TemplateVersion is one entry of DB.TemplateVersions.
type TemplateVersion struct {
	Version   string
	CreatedAt time.Time
}

// TemplateCounts are the template counters of Stats.
type TemplateCounts struct {
	IDs        uint64
	Versions   uint64
	ModifiedAt time.Time // last template write; zero if none
}

// MarshalMsgpack encodes t as the store keeps it (id, version, template, description?, inputs,
// metadata, created_at), so the bytes can be cached or compared elsewhere.
func (t Template) MarshalMsgpack() ([]byte, error) {
	w := &writer{}
	if err := t.encode(w, true); err != nil {
		return nil, err
	}
	return w.b, nil
}

func (t *Template) encode(w *writer, record bool) error {
	n := 3
	if t.Description != "" {
		n++
	}
	if len(t.Inputs) > 0 || record {
		n++
	}
	if len(t.Metadata) > 0 || record {
		n++
	}
	if record {
		n++
	}
	w.mapLen(n)
	w.str("id")
	w.str(t.ID)
	w.str("version")
	if t.Version == "" && record {
		w.str("0.1.0")
	} else {
		w.str(t.Version)
	}
	w.str("template")
	w.str(t.Text)
	if t.Description != "" {
		w.str("description")
		w.str(t.Description)
	}
	if len(t.Inputs) > 0 || record {
		w.str("inputs")
		// Sorted, so the same inputs always encode to the same bytes (see writer.any).
		names := make([]string, 0, len(t.Inputs))
		for name := range t.Inputs {
			names = append(names, name)
		}
		slices.Sort(names)
		w.mapLen(len(names))
		for _, name := range names {
			in := t.Inputs[name]
			m := 2
			if in.Default != nil {
				m++
			}
			if in.Description != "" {
				m++
			}
			w.str(name)
			w.mapLen(m)
			w.str("type")
			if in.Type == "" {
				w.str(string(InputString))
			} else {
				w.str(string(in.Type))
			}
			w.str("required")
			w.bool(!in.Optional)
			if in.Default != nil {
				w.str("default")
				if err := w.any(in.Default); err != nil {
					return fmt.Errorf("input %q default: %w", name, err)
				}
			}
			if in.Description != "" {
				w.str("description")
				w.str(in.Description)
			}
		}
	}
	if len(t.Metadata) > 0 || record {
		w.str("metadata")
		if err := w.metadata(t.Metadata); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	if record {
		w.str("created_at")
		w.int(toMicros(t.CreatedAt))
	}
	return nil
}

// UnmarshalMsgpack decodes a template record as the store returns it. Unknown keys are
// skipped, so records from newer versions of the store still decode.
func (t *Template) UnmarshalMsgpack(b []byte) error {
	r := reader{b: b}
	return t.decode(&r)
}

func (t *Template) decode(r *reader) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	*t = Template{}
	for ; n > 0; n-- {
		k, err := r.rawStr()
		if err != nil {
			return err
		}
		switch string(k) {
		case "id":
			t.ID, err = r.str()
		case "version":
			t.Version, err = r.str()
		case "template":
			t.Text, err = r.str()
		case "description":
			t.Description, err = r.str()
		case "inputs":
			t.Inputs, err = decodeInputs(r)
		case "metadata":
			t.Metadata, err = r.metadata()
		case "created_at":
			var us int64
			us, err = r.int()
			t.CreatedAt = fromMicros(us)
		default:
			err = r.skip()
		}
		if err != nil {
			return fmt.Errorf("template field %q: %w", k, err)
		}
	}
	return nil
}

func decodeInputs(r *reader) (map[string]Input, error) {
	n, err := r.mapLen()
	if err != nil || n == 0 {
		return nil, err
	}
	out := make(map[string]Input, n)
	for ; n > 0; n-- {
		name, err := r.shortStr()
		if err != nil {
			return nil, err
		}
		m, err := r.mapLen()
		if err != nil {
			return nil, err
		}
		var in Input
		for ; m > 0; m-- {
			k, err := r.rawStr()
			if err != nil {
				return nil, err
			}
			switch string(k) {
			case "type":
				var s string
				s, err = r.shortStr()
				in.Type = InputType(s)
			case "required":
				var req bool
				req, err = r.bool()
				in.Optional = !req
			case "default":
				in.Default, err = r.value(0)
			case "description":
				in.Description, err = r.str()
			default:
				err = r.skip()
			}
			if err != nil {
				return nil, err
			}
		}
		out[name] = in
	}
	return out, nil
}

func (db *DB) putTemplate(op string, t *Template, replace bool) (PutOutcome, error) {
	w := getWriter()
	defer putWriter(w)
	if err := t.encode(w, false); err != nil {
		return 0, errInvalid(op, err.Error())
	}
	h, err := db.acquire(op)
	if err != nil {
		return 0, err
	}
	r := cPutTemplate(h, w.b, replace)
	db.release()
	if err := errFrom(op, &r); err != nil {
		return 0, err
	}
	return PutOutcome(r.n), nil
}

// PutTemplate stores one version of a template. Versions are immutable: putting an
// (ID, Version) that exists with identical content succeeds with Unchanged; with other content
// it fails with ErrConflict (use ReplaceTemplate to overwrite). The version put last becomes
// the one GetTemplate returns.
func (db *DB) PutTemplate(t Template) (PutOutcome, error) {
	return db.putTemplate("PutTemplate", &t, false)
}

// ReplaceTemplate is PutTemplate that overwrites an existing version whose content differs
// (outcome Replaced) instead of failing with ErrConflict.
func (db *DB) ReplaceTemplate(t Template) (PutOutcome, error) {
	return db.putTemplate("ReplaceTemplate", &t, true)
}

func (db *DB) getTemplate(op, id, version string, byAlias bool) (Template, error) {
	var t Template
	decode := func(r callResult) error { return t.decode(&reader{b: r.data}) }
	err := db.readInto(op, func(h unsafe.Pointer, buf []byte) callResult {
		return cGetTemplate(h, id, version, byAlias, buf)
	}, decode)
	return t, err
}

// GetTemplateRaw returns a template record's MessagePack bytes (the layout Template's
// MarshalMsgpack writes) without decoding them. The library writes straight into buf (a new
// buffer when buf is too small), so the result aliases buf and a caller that forwards or
// caches records can reuse one buffer without allocating.
// version "" means the latest. Decode with Template.UnmarshalMsgpack.
func (db *DB) GetTemplateRaw(id, version string, buf []byte) ([]byte, error) {
	r, err := db.callInto("GetTemplateRaw", &buf, func(h unsafe.Pointer, buf []byte) callResult {
		return cGetTemplate(h, id, version, false, buf)
	})
	return r.data, err
}

// GetTemplate returns the latest version of template id: the one put most recently.
// It returns ErrNotFound if the id does not exist.
func (db *DB) GetTemplate(id string) (Template, error) {
	return db.getTemplate("GetTemplate", id, "", false)
}

// GetTemplateVersion returns exactly version of template id, or ErrNotFound.
func (db *DB) GetTemplateVersion(id, version string) (Template, error) {
	if version == "" {
		// The ABI reads an empty version as "latest"; here that would be a silent surprise.
		return Template{}, errInvalid("GetTemplateVersion", "version is empty (use GetTemplate for the latest)")
	}
	return db.getTemplate("GetTemplateVersion", id, version, false)
}

// GetTemplateByAlias returns the version of template id that alias (e.g. "production")
// points at, or ErrNotFound if the id or the alias does not exist.
func (db *DB) GetTemplateByAlias(id, alias string) (Template, error) {
	if alias == "" {
		return Template{}, errInvalid("GetTemplateByAlias", "alias is empty")
	}
	return db.getTemplate("GetTemplateByAlias", id, alias, true)
}

// ListTemplates returns up to limit template ids in byte order, only those starting with
// prefix (all if ""), starting after the id after (exclusive; "" to start at the beginning).
// Pass the last id of one page as after to get the next; a page shorter than limit is the
// last. limit must be 1..10000.
func (db *DB) ListTemplates(prefix, after string, limit int) ([]string, error) {
	const op = "ListTemplates"
	if limit < 1 || limit > maxPage {
		return nil, errInvalid(op, "limit must be between 1 and "+itoa(maxPage)+", got "+itoa(limit))
	}
	var ids []string
	err := db.readInto(op, func(h unsafe.Pointer, buf []byte) callResult {
		return cListTemplates(h, prefix, after, uint32(limit), buf)
	}, func(res callResult) error {
		r := &reader{b: res.data}
		n, err := r.arrayLen()
		if err != nil {
			return err
		}
		ids = make([]string, 0, n)
		for ; n > 0; n-- {
			s, err := r.str()
			if err != nil {
				return err
			}
			ids = append(ids, s)
		}
		return nil
	})
	return ids, err
}

// TemplateIDs iterates over all template ids starting with prefix, in byte order, paging
// through the store underneath. An error ends the iteration after it is yielded.
func (db *DB) TemplateIDs(prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		const page = 500
		after := ""
		for {
			ids, err := db.ListTemplates(prefix, after, page)
			if err != nil {
				yield("", err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if len(ids) < page {
				return
			}
			after = ids[len(ids)-1]
		}
	}
}

// TemplateVersions lists the versions of template id in the order they were put, oldest
// first. It returns ErrNotFound if the id does not exist.
func (db *DB) TemplateVersions(id string) ([]TemplateVersion, error) {
	var out []TemplateVersion
	err := db.readInto("TemplateVersions", func(h unsafe.Pointer, buf []byte) callResult {
		return cListTemplateMeta(h, id, false, buf)
	}, func(res callResult) error {
		r := reader{b: res.data}
		n, err := r.arrayLen()
		if err != nil {
			return err
		}
		out = make([]TemplateVersion, 0, n)
		for ; n > 0; n-- {
			m, err := r.mapLen()
			if err != nil {
				return err
			}
			var v TemplateVersion
			for ; m > 0; m-- {
				k, err := r.rawStr()
				if err != nil {
					return err
				}
				switch string(k) {
				case "version":
					v.Version, err = r.str()
				case "created_at":
					var us int64
					us, err = r.int()
					v.CreatedAt = fromMicros(us)
				default:
					err = r.skip()
				}
				if err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// DeleteTemplate deletes template id with all its versions and aliases, or returns
// ErrNotFound.
func (db *DB) DeleteTemplate(id string) error {
	h, err := db.acquire("DeleteTemplate")
	if err != nil {
		return err
	}
	r := cDeleteTemplate(h, id, "")
	db.release()
	return errFrom("DeleteTemplate", &r)
}

// DeleteTemplateVersion deletes one version of template id and the aliases pointing at it.
// If it was the latest, the version put before it becomes the latest.
func (db *DB) DeleteTemplateVersion(id, version string) error {
	const op = "DeleteTemplateVersion"
	if version == "" {
		// An empty version would delete the whole id through the ABI.
		return errInvalid(op, "version is empty (use DeleteTemplate to delete every version)")
	}
	h, err := db.acquire(op)
	if err != nil {
		return err
	}
	r := cDeleteTemplate(h, id, version)
	db.release()
	return errFrom(op, &r)
}

// SetTemplateAlias points alias of template id at an existing version, creating or moving
// it. It returns ErrNotFound if the id or the version does not exist.
func (db *DB) SetTemplateAlias(id, alias, version string) error {
	const op = "SetTemplateAlias"
	if alias == "" || version == "" {
		return errInvalid(op, "alias and version must not be empty")
	}
	h, err := db.acquire(op)
	if err != nil {
		return err
	}
	r := cSetTemplateAlias(h, id, alias, version)
	db.release()
	return errFrom(op, &r)
}

// DeleteTemplateAlias removes an alias, or returns ErrNotFound.
func (db *DB) DeleteTemplateAlias(id, alias string) error {
	const op = "DeleteTemplateAlias"
	if alias == "" {
		return errInvalid(op, "alias is empty")
	}
	h, err := db.acquire(op)
	if err != nil {
		return err
	}
	r := cDeleteTemplateAlias(h, id, alias)
	db.release()
	return errFrom(op, &r)
}

// TemplateAliases returns the aliases of template id, alias -> version.
func (db *DB) TemplateAliases(id string) (map[string]string, error) {
	var out map[string]string
	err := db.readInto("TemplateAliases", func(h unsafe.Pointer, buf []byte) callResult {
		return cListTemplateMeta(h, id, true, buf)
	}, func(res callResult) error {
		r := reader{b: res.data}
		n, err := r.mapLen()
		if err != nil {
			return err
		}
		out = make(map[string]string, n)
		for ; n > 0; n-- {
			k, err := r.str()
			if err != nil {
				return err
			}
			v, err := r.str()
			if err != nil {
				return err
			}
			out[k] = v
		}
		return nil
	})
	return out, err
}

// TemplateCounts returns the number of template ids and versions and the time of the last
// template write. They are counters kept by the writes, not a scan.
func (db *DB) TemplateCounts() (TemplateCounts, error) {
	s, err := db.Stats()
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Op = "TemplateCounts"
		}
		return TemplateCounts{}, err
	}
	return TemplateCounts{IDs: s.TemplateIDs, Versions: s.TemplateVersions, ModifiedAt: s.TemplatesModifiedAt}, nil
}
