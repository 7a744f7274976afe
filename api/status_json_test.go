package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// bodyRequestID matches the RequestId member that ends every success body.
var bodyRequestID = regexp.MustCompile(`,"RequestId":"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}"}$`)

// statusBody sends a V1 GET of action with params and returns the body
// with its RequestId checked and cut off.
func statusBody(t *testing.T, e *env, action string, params map[string]string) string {
	t.Helper()
	res, err := e.srv.Client().Do(e.request(http.MethodGet, signV1(http.MethodGet, e.admin, v1Params(e.admin, action, params)), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(b)
	loc := bodyRequestID.FindStringIndex(body)
	if loc == nil {
		t.Fatalf("no RequestId at the end of %s", body)
	}
	return body[:loc[0]] + "}"
}

// The status JSON of a mixed batch, byte for byte as clients have always
// received it: entries in request order, duplicates once, a normalized
// identifier for an upper-case one, RevokeTime (epoch milliseconds) only
// for the revoked, an empty SerialNumber and the identifier as sent (JSON
// escaped as encoding/json escapes it) for a malformed one.
func TestStatusJSON_MixedBatchBytes(t *testing.T) {
	e := newEnv(t, nil)
	good := issue(t, e, "good")
	revoked := issue(t, e, "revoked")
	if _, err := e.auth.Revoke(context.Background(), revoked.Identifier, certs.KeyCompromise, revoked.NotBefore); err != nil {
		t.Fatal(err)
	}
	missing := newIdentifier()
	malformed := `not-an-identifier<&>"x"`
	list := strings.Join([]string{string(good.Identifier), strings.ToUpper(string(revoked.Identifier)), missing, malformed, string(good.Identifier), "zz"}, ",")

	got := statusBody(t, e, "DescribeClientCertificateStatus", map[string]string{"Identifier": list})
	want := fmt.Sprintf(`{"CertificateStatus":[`+
		`{"Identifier":"%s","SerialNumber":"%s","Status":"good"},`+
		`{"Identifier":"%s","SerialNumber":"%s","Status":"revoked","RevokeTime":%d},`+
		`{"Identifier":"%s","SerialNumber":"","Status":"unknown"},`+
		`{"Identifier":"not-an-identifier\u003c\u0026\u003e\"x\"","SerialNumber":"","Status":"unknown"},`+
		`{"Identifier":"zz","SerialNumber":"","Status":"unknown"}]}`,
		good.Identifier, good.Serial, revoked.Identifier, revoked.Serial, revoked.NotBefore.UnixMilli(), missing)
	if got != want {
		t.Errorf("DescribeClientCertificateStatus body\n got %s\nwant %s", got, want)
	}

	// By serial: an unknown serial has no Identifier member at all.
	got = statusBody(t, e, "DescribeClientCertificateStatusForSerialNumber", map[string]string{"SerialNumber": string(revoked.Serial) + ",7f" + "," + string(good.Serial)})
	want = fmt.Sprintf(`{"CertificateStatus":[`+
		`{"Identifier":"%s","SerialNumber":"%s","Status":"revoked","RevokeTime":%d},`+
		`{"SerialNumber":"7f","Status":"unknown"},`+
		`{"Identifier":"%s","SerialNumber":"%s","Status":"good"}]}`,
		revoked.Identifier, revoked.Serial, revoked.NotBefore.UnixMilli(), good.Identifier, good.Serial)
	if got != want {
		t.Errorf("DescribeClientCertificateStatusForSerialNumber body\n got %s\nwant %s", got, want)
	}
}
