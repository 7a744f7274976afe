package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/ca"
)

// modelField is one field of a response model of Alibaba's generated Go
// SDK for cas 2020-06-30 (v2.1.3), as testdata/alibaba-models-cas-20200630.json
// lists them: a copy of shared/alibaba-models-cas-20200630.json, every
// request and response model by name (field name, Go type, JSON name,
// example).
type modelField struct {
	Name, Type, JSON, Example string
}

func loadModels(t *testing.T) map[string][]modelField {
	t.Helper()
	b, err := os.ReadFile("testdata/alibaba-models-cas-20200630.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string][]modelField
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fixture is what the fidelity calls act on: a client certificate with
// nothing but a common name (its empty subject fields must still be
// sent), a revoked one, tags on both and on the sub CA, and a CRL.
type fixture struct {
	e                     *env
	c                     *client
	root, sub             string
	good, revoked         string // identifiers
	goodSerial, revSerial string
	csr                   string
}

func newFixture(t *testing.T) *fixture {
	e := newEnv(t, nil)
	f := &fixture{e: e, c: e.sdk(e.admin, false), root: string(e.root.Identifier), sub: string(e.sub.Identifier)}
	f.good, f.goodSerial = f.issue("fidelity-good")
	f.revoked, f.revSerial = f.issue("fidelity-revoked")
	f.c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": f.revoked})
	f.c.ok("TagResources", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERTIFICATE",
		"ResourceId": []string{f.good, f.sub}, "Tag": []map[string]any{{"Key": "env", "Value": "prod"}}})
	if _, err := e.auth.UpdateCRL(context.Background(), e.sub.Identifier, ca.CRLPolicy{}); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr.example.com"}}, key)
	f.csr = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	return f
}

// issue issues a client certificate with a common name only.
func (f *fixture) issue(cn string) (id, serial string) {
	out := f.c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": f.sub, "CommonName": cn, "Days": 30})
	return out["Identifier"].(string), out["SerialNumber"].(string)
}

func (f *fixture) tagQuery(extra map[string]any) map[string]any {
	q := map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERTIFICATE"}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// fidelityCase is how one action is called and which of its response
// model's fields may be absent. Every other field of the model must be in
// the body (Alibaba always sends it), with the JSON type of its Go type.
type fidelityCase struct {
	query func(f *fixture) map[string]any
	// optional maps a field path (Field, List[].Field, Data.Field) to why
	// Alibaba, and so certstatus, sends it only sometimes.
	optional map[string]string
}

var (
	whenRevoked = "only for a revoked certificate: Alibaba documents RevokeTime as sent when Status is revoked"
	whenMore    = "only when more entries follow, as on Alibaba"
	immediately = map[string]any{"Days": 30, "Immediately": 2} // Immediately=2: certificate and chain
)

func subCAQuery(f *fixture) map[string]any {
	return map[string]any{"ParentIdentifier": f.root, "CommonName": "Fidelity Sub", "Organization": "Example",
		"OrganizationUnit": "PKI", "Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN", "Years": 2, "Algorithm": "ECC_256"}
}

func with(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// fidelityCases has an entry for every served action (the test fails
// otherwise): the actions added to api/actions.go must be added here.
var fidelityCases = map[string]fidelityCase{
	"DescribeClientCertificateStatus": {
		query:    func(f *fixture) map[string]any { return map[string]any{"Identifier": f.good + "," + f.revoked} },
		optional: map[string]string{"CertificateStatus[].RevokeTime": whenRevoked},
	},
	"DescribeClientCertificateStatusForSerialNumber": {
		query: func(f *fixture) map[string]any {
			return map[string]any{"SerialNumber": f.goodSerial + "," + f.revSerial}
		},
		optional: map[string]string{"CertificateStatus[].RevokeTime": whenRevoked},
	},
	"CreateRootCACertificate": {query: func(f *fixture) map[string]any {
		return map[string]any{"CommonName": "Fidelity Root", "Organization": "Example", "OrganizationUnit": "PKI",
			"Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN", "Years": 5, "Algorithm": "ECC_256"}
	}},
	"CreateSubCACertificate": {query: subCAQuery},
	"CreateClientCertificate": {query: func(f *fixture) map[string]any {
		return with(immediately, map[string]any{"ParentIdentifier": f.sub, "CommonName": "alice", "SanType": 1, "SanValue": "alice@example.com"})
	}},
	"CreateServerCertificate": {query: func(f *fixture) map[string]any {
		return with(immediately, map[string]any{"ParentIdentifier": f.sub, "CommonName": "www.example.com", "Domain": "www.example.com"})
	}},
	"CreateClientCertificateWithCsr": {
		query: func(f *fixture) map[string]any {
			return with(immediately, map[string]any{"ParentIdentifier": f.sub, "Csr": f.csr})
		},
		optional: map[string]string{
			"CertKmcRep1":    "SM2 dual-certificate (KMC) output: certstatus issues no SM2 certificates",
			"CertSignBufKmc": "SM2 dual-certificate (KMC) output: certstatus issues no SM2 certificates",
		},
	},
	"CreateServerCertificateWithCsr": {query: func(f *fixture) map[string]any {
		return with(immediately, map[string]any{"ParentIdentifier": f.sub, "Csr": f.csr, "Domain": "csr.example.com"})
	}},
	"CreateRevokeClientCertificate": {query: func(f *fixture) map[string]any {
		id, _ := f.issue("to-revoke")
		return map[string]any{"Identifier": id}
	}},
	"DeleteClientCertificate": {query: func(f *fixture) map[string]any {
		id, _ := f.issue("to-delete")
		f.c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": id}) // Alibaba deletes revoked ones
		return map[string]any{"Identifier": id}
	}},
	"UpdateCACertificateStatus": {query: func(f *fixture) map[string]any {
		out := f.c.ok("CreateSubCACertificate", subCAQuery(f))
		return map[string]any{"Identifier": out["Identifier"], "Status": "FORBIDDEN"}
	}},
	"UpdatePcaCertificate": {
		query:    func(f *fixture) map[string]any { return map[string]any{"Identifier": f.sub, "AliasName": "issuing"} },
		optional: map[string]string{"AccessDeniedDetail": "only on a RAM denial, in the NoPermission error body"},
	},
	"DescribeCACertificate":      {query: func(f *fixture) map[string]any { return map[string]any{"Identifier": f.sub} }},
	"DescribeCACertificateList":  {query: func(f *fixture) map[string]any { return map[string]any{} }},
	"DescribeCACertificateCount": {query: func(f *fixture) map[string]any { return map[string]any{} }},
	"ListPcaCaCertificate": {
		query:    func(f *fixture) map[string]any { return map[string]any{"MaxResults": 1} },
		optional: map[string]string{"NextToken": whenMore},
	},
	"GetCAInstanceStatus":     {query: func(f *fixture) map[string]any { return map[string]any{"Identifier": f.sub} }},
	"GetCaInstanceCrlAddress": {query: func(f *fixture) map[string]any { return map[string]any{"CaIdentifier": f.sub} }},
	"DescribeClientCertificate": {query: func(f *fixture) map[string]any {
		return map[string]any{"Identifier": f.good}
	}},
	"DescribeClientCertificateForSerialNumber": {query: func(f *fixture) map[string]any {
		return map[string]any{"SerialNumber": f.goodSerial}
	}},
	"DescribeCertificatePrivateKey": {query: func(f *fixture) map[string]any {
		return map[string]any{"Identifier": f.good, "EncryptedCode": "correct horse battery"}
	}},
	"ListClientCertificate": {query: func(f *fixture) map[string]any { return map[string]any{} }},
	"ListCert": {
		query:    func(f *fixture) map[string]any { return map[string]any{} },
		optional: map[string]string{"NextToken": whenMore + " (MaxResults/NextToken paging)"},
	},
	"ListRevokeCertificate": {query: func(f *fixture) map[string]any { return map[string]any{} }},
	"TagResources": {query: func(f *fixture) map[string]any {
		return f.tagQuery(map[string]any{"ResourceId": []string{f.good}, "Tag": []map[string]any{{"Key": "team", "Value": "pki"}}})
	}},
	"UntagResources": {query: func(f *fixture) map[string]any {
		return f.tagQuery(map[string]any{"ResourceId": []string{f.revoked}, "All": true})
	}},
	"ListTagResources": {
		query:    func(f *fixture) map[string]any { return f.tagQuery(nil) },
		optional: map[string]string{"Data.NextToken": whenMore},
	},
	"ListCACertificateLog": {query: func(f *fixture) map[string]any { return map[string]any{"Identifier": f.sub} }},
	"MoveResourceGroup": {query: func(f *fixture) map[string]any {
		return map[string]any{"ResourceId": f.good, "ResourceGroupId": "rg-fidelity", "ResourceType": "certificate", "RegionId": "cn-hangzhou"}
	}},
	"DescribePcaAndExternalCACertificateList": {query: func(f *fixture) map[string]any { return map[string]any{} }},
	"CreateCustomCertificate": {query: func(f *fixture) map[string]any {
		return map[string]any{"ParentIdentifier": f.sub, "Csr": f.csr, "Validity": "30d", "Immediately": 2,
			"ApiPassthrough": map[string]any{"Extensions": map[string]any{
				"KeyUsage": map[string]any{"DigitalSignature": true}, "ExtendedKeyUsages": []string{"serverAuth"},
				"SubjectAlternativeNames": []map[string]any{{"Type": "dNSName", "Value": "custom.example.com"}}}}}
	}},
}

// TestSDK_ResponsesMatchAlibabaModels calls every served action through
// Alibaba's OpenAPI runtime and checks each body against the action's
// response model: every field present unless the table says why not, and
// of the JSON type of its Go type, nested models and list items included.
func TestSDK_ResponsesMatchAlibabaModels(t *testing.T) {
	models := loadModels(t)
	for _, name := range api.ActionNames() {
		if _, ok := fidelityCases[name]; !ok {
			t.Errorf("served action %s has no entry in fidelityCases", name)
		}
		if _, ok := models[name+"ResponseBody"]; !ok {
			t.Errorf("served action %s has no response model", name)
		}
	}
	for name := range fidelityCases {
		if !slices.Contains(api.ActionNames(), name) {
			t.Errorf("fidelityCases has %s, which is not served", name)
		}
	}
	f := newFixture(t)
	names := api.ActionNames()
	slices.Sort(names)
	for _, name := range names {
		tc, ok := fidelityCases[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			body := f.c.ok(name, tc.query(f))
			w := walker{t: t, models: models, optional: tc.optional, seen: map[string]bool{}}
			w.object(name+"ResponseBody", body, "")
			for p := range tc.optional {
				if !w.seen[p] {
					t.Errorf("optional %s names no field of the model that was reached", p)
				}
			}
		})
	}
}

// walker checks a decoded body against a model.
type walker struct {
	t        *testing.T
	models   map[string][]modelField
	optional map[string]string
	seen     map[string]bool
	reported map[string]bool // once per path, not per list item
}

func (w *walker) errorf(path, format string, args ...any) {
	if w.reported == nil {
		w.reported = map[string]bool{}
	}
	if !w.reported[path] {
		w.reported[path] = true
		w.t.Errorf(format, args...)
	}
}

func (w *walker) object(model string, v any, path string) {
	obj, ok := v.(map[string]any)
	if !ok {
		w.errorf(path, "%s: %T, want an object (%s)", orTop(path), v, model)
		return
	}
	for _, f := range w.models[model] {
		p := f.JSON
		if path != "" {
			p = path + "." + f.JSON
		}
		w.seen[p] = true
		fv, present := obj[f.JSON]
		if !present {
			if _, opt := w.optional[p]; !opt {
				w.errorf(p, "%s is missing (%s %s)", p, model, f.Type)
			}
			continue
		}
		w.value(f.Type, fv, p)
	}
}

func (w *walker) value(typ string, v any, path string) {
	if v == nil {
		w.errorf(path, "%s is null, want %s", path, typ)
		return
	}
	switch {
	case typ == "*string":
		if _, ok := v.(string); !ok {
			w.errorf(path, "%s: %T %v, want a JSON string", path, v, v)
		}
	case typ == "*bool":
		if _, ok := v.(bool); !ok {
			w.errorf(path, "%s: %T %v, want a JSON bool", path, v, v)
		}
	case typ == "*int32" || typ == "*int64":
		n, ok := jsonInt(v)
		if !ok {
			w.errorf(path, "%s: %T %v, want a JSON integer", path, v, v)
		} else if typ == "*int32" && (n > math.MaxInt32 || n < math.MinInt32) {
			w.errorf(path, "%s: %d does not fit the model's int32", path, n)
		}
	case typ == "[]*string":
		for i, e := range w.list(v, path, false) {
			if _, ok := e.(string); !ok {
				w.errorf(path+"[]", "%s[%d]: %T, want a JSON string", path, i, e)
			}
		}
	case strings.HasPrefix(typ, "[]*"):
		for _, e := range w.list(v, path, true) {
			w.object(typ[3:], e, path+"[]")
		}
	case strings.HasPrefix(typ, "*") && w.models[typ[1:]] != nil:
		w.object(typ[1:], v, path)
	default:
		w.errorf(path, "%s: model type %s is not handled by this test", path, typ)
	}
}

// list returns v as a list; a list of objects must not be empty, or its
// items' fields would go unchecked.
func (w *walker) list(v any, path string, objects bool) []any {
	l, ok := v.([]any)
	if !ok {
		w.errorf(path, "%s: %T, want a JSON array", path, v)
	}
	if ok && objects && len(l) == 0 {
		w.errorf(path, "%s is empty: the fixture must give it an item to check", path)
	}
	return l
}

func jsonInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), n == math.Trunc(n)
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

func orTop(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
