package api

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// params are the request parameters, merged from the query string and an
// application/x-www-form-urlencoded body (the SDKs use either, some both).
type params struct{ v url.Values }

// mergeParams merges query and form values. A name given in both places
// with different values is ambiguous and refused: the signature covers
// both, but the handler could only honour one.
func mergeParams(query, form url.Values) (params, *Error) {
	out := url.Values{}
	for k, vs := range query {
		out[k] = append([]string(nil), vs...)
	}
	for k, vs := range form {
		if q, ok := out[k]; ok && !sameValues(q, vs) {
			return params{}, errInvalid(k, "given in both the query string and the body with different values")
		}
		if _, ok := out[k]; !ok {
			out[k] = append([]string(nil), vs...)
		}
	}
	for k, vs := range out {
		if len(vs) > 1 && !sameValues(vs[:1], vs[1:]) {
			return params{}, errInvalid(k, "given %d times with different values", len(vs))
		}
	}
	return params{v: out}, nil
}

// sameValues reports whether every value of a and b is one and the same
// (linear: this runs before authentication).
func sameValues(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	v := a[0]
	for _, x := range a {
		if x != v {
			return false
		}
	}
	for _, y := range b {
		if y != v {
			return false
		}
	}
	return true
}

// str returns the parameter, trimmed of surrounding white space.
func (p params) str(name string) string { return strings.TrimSpace(p.v.Get(name)) }

func (p params) has(name string) bool { return p.str(name) != "" }

// required returns the parameter or MissingParameter.
func (p params) required(name string) (string, *Error) {
	v := p.str(name)
	if v == "" {
		return "", errMissing(name)
	}
	return v, nil
}

// integer parses an optional integer within [min, max]; absent gives def.
func (p params) integer(name string, def, min, max int64) (int64, *Error) {
	s := p.str(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errInvalid(name, "%q is not an integer", s)
	}
	if n < min || n > max {
		return 0, errInvalid(name, "%d is outside %d..%d", n, min, max)
	}
	return n, nil
}

// boolean parses an optional true/false (or 1/0).
func (p params) boolean(name string) (bool, *Error) {
	switch strings.ToLower(p.str(name)) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errInvalid(name, "%q is not true or false", p.str(name))
}

// identifier parses a required certificate or CA identifier.
func (p params) identifier(name string) (certs.Identifier, *Error) {
	s, aerr := p.required(name)
	if aerr != nil {
		return "", aerr
	}
	id, err := certs.ParseIdentifier(s)
	if err != nil {
		return "", errInvalid(name, "%q is not a certificate identifier (32 hex characters)", s)
	}
	return id, nil
}

// list splits a comma-separated parameter, trimming spaces and dropping
// empty entries.
func (p params) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.v.Get(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// indexed collects flattened lists: Tags.1.Key, Tags.1.Value, Tags.2.Key…
// or ResourceId.1, ResourceId.2… (field ""). Indexes are returned in
// numeric order.
func (p params) indexed(prefix string) map[int]map[string]string {
	out := map[int]map[string]string{}
	for k := range p.v {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			continue
		}
		if out[n] == nil {
			out[n] = map[string]string{}
		}
		out[n][field] = p.v.Get(k)
	}
	return out
}

func sortedIndexes(m map[int]map[string]string) []int {
	idx := make([]int, 0, len(m))
	for i := range m {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return idx
}

// tags reads Tags.N.Key / Tags.N.Value (or Tag.N.…).
func (p params) tags(prefix string) ([]certs.Tag, *Error) {
	m := p.indexed(prefix)
	var out []certs.Tag
	for _, i := range sortedIndexes(m) {
		k := strings.TrimSpace(m[i]["Key"])
		if k == "" {
			return nil, errInvalid(prefix+"."+strconv.Itoa(i)+".Key", "empty tag key")
		}
		if len(k) > 128 || len(m[i]["Value"]) > 256 {
			return nil, errInvalid(prefix+"."+strconv.Itoa(i), "tag keys are at most 128 and values 256 characters")
		}
		out = append(out, certs.Tag{Key: k, Value: m[i]["Value"]})
	}
	if len(out) > 20 {
		return nil, errInvalid(prefix, "at most 20 tags, got %d", len(out))
	}
	return out, nil
}

// MaxListWindow bounds CurrentPage × ShowSize: a page costs the records
// before it, so deeper listings go by MaxResults and NextToken, whose
// cost is the page alone.
const MaxListWindow = 10000

// page reads CurrentPage/ShowSize paging.
func (p params) page(defSize int64) (page, size int64, aerr *Error) {
	if page, aerr = p.integer("CurrentPage", 1, 1, 1<<31-1); aerr != nil {
		return
	}
	if size, aerr = p.integer("ShowSize", defSize, 1, 1000); aerr != nil {
		return
	}
	if page*size > MaxListWindow {
		return 0, 0, errInvalid("CurrentPage", "CurrentPage × ShowSize is %d, more than %d; list further with MaxResults and NextToken", page*size, MaxListWindow)
	}
	return
}

// epochMillis is the unit of Alibaba's int64 response times.
func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// dayString is the yyyy-MM-ddTHH:mmZ form of the string date fields.
func dayString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}
