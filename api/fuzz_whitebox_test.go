package api

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/acsauth"
)

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// FuzzMergeParams checks mergeParams on any query string and form body:
// it never panics or changes its inputs; a name with one distinct value
// (given once, or repeated identically, in either place or both) keeps that
// value; a name with two distinct values is an InvalidParameter naming it;
// and the result shares no slice with the inputs.
func FuzzMergeParams(f *testing.F) {
	// What the SDKs send: darabonba V1 (all in the query), pop-core (all
	// in the body), a V3 request with a ClientToken form body.
	f.Add("AccessKeyId=LTAI&Action=DescribeClientCertificateStatus&Format=json&Identifier=id-aaa%2Cid-bbb&Signature=abc%3D", "")
	f.Add("", "Action=CreateClientCertificate&CommonName=dev%207&Signature=x%2By%2F%3D")
	f.Add("Identifier=a", "ClientToken=t-1&Days=30")
	// The same name in both places: equal, different, empty.
	f.Add("A=1", "A=1")
	f.Add("A=1", "A=2")
	f.Add("A=", "A=")
	f.Add("A=", "A=x")
	// One place, repeated: equal and different values.
	f.Add("A=1&A=1", "")
	f.Add("A=1&A=2", "")
	f.Add("", "B=1&B=1&B=2")
	f.Add("A=1&A=1", "A=1&A=1")
	// Encodings: + and %20, malformed escapes, semicolons, non-UTF-8.
	f.Add("N=a+b", "N=a%20b")
	f.Add("%zz=1&ok=2", "A=%")
	f.Add("a;b=1&c=2", "")
	f.Add("%FF%FE=%00", "%FF%FE=%00")
	f.Fuzz(func(t *testing.T, rawQuery, rawForm string) {
		query, _ := url.ParseQuery(rawQuery)
		form, _ := url.ParseQuery(rawForm)
		q0, f0 := cloneValues(query), cloneValues(form)
		p, aerr := mergeParams(query, form)
		if !maps.EqualFunc(query, q0, slices.Equal) || !maps.EqualFunc(form, f0, slices.Equal) {
			t.Fatalf("inputs changed: %v %v, were %v %v", query, form, q0, f0)
		}
		distinct := map[string]map[string]bool{}
		for _, vs := range []url.Values{query, form} {
			for k, values := range vs {
				if distinct[k] == nil {
					distinct[k] = map[string]bool{}
				}
				for _, v := range values {
					distinct[k][v] = true
				}
			}
		}
		var conflicts []string
		for k, set := range distinct {
			if len(set) > 1 {
				conflicts = append(conflicts, k)
			}
		}
		if len(conflicts) > 0 {
			if aerr == nil {
				t.Fatalf("got %v, want InvalidParameter for %q", p.v, conflicts)
			}
			if aerr.Code != "InvalidParameter" || aerr.Status != http.StatusBadRequest {
				t.Fatalf("got %s/%d, want InvalidParameter/400", aerr.Code, aerr.Status)
			}
			if !slices.ContainsFunc(conflicts, func(k string) bool { return strings.Contains(aerr.Message, strconv.Quote(k)) }) {
				t.Fatalf("message %q names none of %q", aerr.Message, conflicts)
			}
			return
		}
		if aerr != nil {
			t.Fatalf("got %v, want no error (no name has two values)", aerr)
		}
		if len(p.v) != len(distinct) {
			t.Fatalf("got names %v, want those of %v", slices.Collect(maps.Keys(p.v)), slices.Collect(maps.Keys(distinct)))
		}
		for k, set := range distinct {
			got := p.v[k]
			if len(got) == 0 {
				t.Fatalf("%q: dropped", k)
			}
			for _, v := range got {
				if !set[v] {
					t.Fatalf("%q: got value %q, want one of %v", k, v, set)
				}
			}
		}
		for k := range p.v {
			p.v[k][0] = "\x00changed"
		}
		if !maps.EqualFunc(query, q0, slices.Equal) || !maps.EqualFunc(form, f0, slices.Equal) {
			t.Fatalf("the result shares slices with the inputs")
		}
	})
}

// FuzzV1QueryString feeds any bytes as a V1 query string through what the
// server does before checking the signature (url.ParseQuery, mergeParams,
// acsauth.V1StringToSign) and the parameter readers the actions use: none
// may panic, and the string to sign is deterministic and well formed.
func FuzzV1QueryString(f *testing.F) {
	// The darabonba-openapi V1 request (alibaba-api.md §4.4).
	f.Add([]byte("AccessKeyId=LTAI-FAKE&Action=DescribeClientCertificateStatus&Format=json&Identifier=id-aaa%2Cid-bbb&SignatureMethod=HMAC-SHA1&SignatureNonce=9d93b17f&SignatureVersion=1.0&Timestamp=2026-11-27T23%3A16%3A51Z&Version=2020-06-30&Signature=abc%3D"))
	// The legacy Go SDK: empty SignatureType, RegionId.
	f.Add([]byte("SignatureType=&RegionId=cn-hangzhou&Action=ListCert"))
	// Flattened lists and paging at and past their bounds.
	f.Add([]byte("Tags.1.Key=env&Tags.1.Value=prod&Tags.0.Key=x&Tags.-1.Key=y&Tags.99999999999999999999.Key=z&Tags.2.Key="))
	f.Add([]byte("CurrentPage=0&ShowSize=99999999999999999999&Days=-1&Immediately=2"))
	f.Add([]byte("Identifier=%2C%2C+%2C&ParentIdentifier=" + strings.Repeat("f", 32)))
	// Broken encodings and separators.
	f.Add([]byte("%"))
	f.Add([]byte("&&==&a=%zz&;"))
	f.Add([]byte("%FF%FE=%C3%28&Csr=-----BEGIN+CERTIFICATE+REQUEST-----%0AMII%0A"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		q, _ := url.ParseQuery(string(raw))
		p, aerr := mergeParams(q, nil)
		if aerr != nil {
			return // one name given twice with different values
		}
		sts := acsauth.V1StringToSign(http.MethodGet, p.v)
		if !strings.HasPrefix(sts, "GET&%2F&") {
			t.Fatalf("string to sign %q lacks the GET&%%2F& prefix", sts)
		}
		if again := acsauth.V1StringToSign(http.MethodGet, p.v); again != sts {
			t.Fatalf("string to sign changed: %q then %q", sts, again)
		}
		_ = acsauth.V1Signature([]byte("secret"), sts)
		_ = p.str("Action")
		_ = p.list("Identifier")
		_, _ = p.identifier("ParentIdentifier")
		_, _ = p.tags("Tags")
		_, _, _ = p.page(20)
		_, _ = p.integer("Days", 0, 0, 36600)
		_, _ = p.boolean("AsynchronousFlag")
		if _, aerr := validity(p); aerr != nil && aerr.Status != http.StatusBadRequest {
			t.Fatalf("validity: got status %d, want 400", aerr.Status)
		}
		_, _ = sanParam(p, 1, 2, 6, 7)
		_ = subject(p)
	})
}
