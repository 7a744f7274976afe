package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// The query string and the form body are parsed as url.ParseQuery parses
// them, as the "Requests" paragraph of docs/ALIBABA.md says: awkward bytes arrive
// intact, so that the V1 signature over them verifies ('+' and %20 are a
// space, %2B a plus), and what url.ParseQuery refuses (a bad escape, a ';'
// separator) is InvalidParameter.
func TestRaw_QueryParsing(t *testing.T) {
	e := newEnv(t, nil)
	// A malformed identifier comes back as it was received, so the
	// answer shows the decoded bytes.
	awkward := "a b+c*d~e/%&=;\n测试\x01"
	signed := func() string {
		v := v1Params(e.admin, "DescribeClientCertificateStatus", map[string]string{"Identifier": awkward})
		return signV1(http.MethodGet, e.admin, v).Encode()
	}
	for _, tt := range []struct {
		name string
		req  func() *http.Request
	}{
		{"query, space as +", func() *http.Request {
			r := e.request(http.MethodGet, nil, "")
			r.URL.RawQuery = signed()
			return r
		}},
		{"query, space as %20", func() *http.Request {
			r := e.request(http.MethodGet, nil, "")
			r.URL.RawQuery = strings.ReplaceAll(signed(), "+", "%20")
			return r
		}},
		{"form body", func() *http.Request {
			v := v1Params(e.admin, "DescribeClientCertificateStatus", map[string]string{"Identifier": awkward})
			return e.request(http.MethodPost, nil, signV1(http.MethodPost, e.admin, v).Encode())
		}},
	} {
		t.Run("ok/"+tt.name, func(t *testing.T) {
			r := e.do(tt.req())
			r.check(t, http.StatusOK, "", "")
			st := statusOf(t, r.body)
			if len(st) != 1 || st[0]["Identifier"] != awkward || st[0]["Status"] != "unknown" {
				t.Errorf("entries %q, want one unknown entry for %q", st, awkward)
			}
		})
	}

	for _, tt := range []struct {
		name, query, body, msg string
	}{
		{"bad escape in the query", "Action=DescribeClientCertificateStatus&Identifier=%zz", "", "the query string does not parse"},
		{"truncated escape in the query", "Action=DescribeClientCertificateStatus&Identifier=%4", "", "the query string does not parse"},
		{"semicolon in the query", "Action=DescribeClientCertificateStatus;Identifier=x", "", "the query string does not parse"},
		{"bad escape in the body", "", "Action=DescribeClientCertificateStatus&Identifier=%g0", "the form body does not parse"},
		{"semicolon in the body", "", "Action=DescribeClientCertificateStatus;Identifier=x", "the form body does not parse"},
	} {
		t.Run("error/"+tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.body != "" {
				method = http.MethodPost
			}
			r := e.request(method, nil, tt.body)
			r.URL.RawQuery = tt.query
			e.do(r).check(t, http.StatusBadRequest, "InvalidParameter", tt.msg)
		})
	}
}
