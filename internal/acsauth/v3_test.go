package acsauth_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/certstatus/certstatus/internal/acsauth"
)

// capturedCanonical is the canonical request of alibaba-api.md §2.2, taken
// from a real darabonba-openapi v2.1.13 request.
const capturedCanonical = `POST
/
Identifier=id-aaa%2Cid-bbb
host:127.0.0.1:34105
x-acs-action:DescribeClientCertificateStatus
x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
x-acs-credentials-provider:static_ak
x-acs-date:2026-11-27T23:16:51Z
x-acs-signature-nonce:9d93b17f167e78610d73374e49f8a4ab
x-acs-version:2020-06-30

host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// capturedHeader is the header map net/http builds for that request.
func capturedHeader() http.Header {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "AlibabaCloud (linux; amd64) Golang/1.26.8 Core/0.01 TeaDSL/2")
	h.Set("X-Acs-Action", "DescribeClientCertificateStatus")
	h.Set("X-Acs-Content-Sha256", emptySHA256)
	h.Set("X-Acs-Credentials-Provider", "static_ak")
	h.Set("X-Acs-Date", "2026-11-27T23:16:51Z")
	h.Set("X-Acs-Signature-Nonce", "9d93b17f167e78610d73374e49f8a4ab")
	h.Set("X-Acs-Version", "2020-06-30")
	return h
}

func TestV3CanonicalRequest_CapturedExample(t *testing.T) {
	signed := strings.Split("host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version", ";")
	query := url.Values{"Identifier": {"id-aaa,id-bbb"}}
	got := acsauth.V3CanonicalRequest("POST", "/", query, capturedHeader(), "127.0.0.1:34105", signed, emptySHA256)
	if got != capturedCanonical {
		t.Errorf("got\n%s\nwant\n%s", got, capturedCanonical)
	}
}

func TestV3CanonicalRequest(t *testing.T) {
	header := http.Header{"X-Acs-Multi": {" b ", "a"}, "Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name   string
		path   string
		query  url.Values
		host   string
		signed []string
		want   string
	}{
		{"empty path/becomes slash", "", nil, "h", []string{"host"}, "GET\n/\n\nhost:h\n\nhost\n" + emptySHA256},
		{"query/space star tilde plus, empty value", "/", url.Values{"b": {"x y*~+"}, "a": {""}}, "h", []string{"host"},
			"GET\n/\na=&b=x%20y%2A~%2B\nhost:h\n\nhost\n" + emptySHA256},
		{"header/multiple values trimmed sorted joined", "/", nil, "h", []string{"host", "x-acs-multi"},
			"GET\n/\n\nhost:h\nx-acs-multi:a,b\n\nhost;x-acs-multi\n" + emptySHA256},
		{"header/order as signed", "/", nil, "h", []string{"x-acs-multi", "content-type", "host"},
			"GET\n/\n\nx-acs-multi:a,b\ncontent-type:application/x-www-form-urlencoded\nhost:h\n\nx-acs-multi;content-type;host\n" + emptySHA256},
		{"header/absent signed header is empty", "/", nil, "h", []string{"host", "x-acs-none"},
			"GET\n/\n\nhost:h\nx-acs-none:\n\nhost;x-acs-none\n" + emptySHA256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := acsauth.V3CanonicalRequest("GET", tt.path, tt.query, header, tt.host, tt.signed, emptySHA256)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestV3Signature_MatchesOfficialUtil compares with the SDK's own
// GetAuthorization on the same (undecoded) request.
func TestV3Signature_MatchesOfficialUtil(t *testing.T) {
	tests := []struct {
		name     string
		query    map[string]string
		wantSame bool
	}{
		{"awkward values", map[string]string{"Identifier": "a b+c*d~e/%&=\n测试", "Empty": ""}, true},
		{"flattened names", map[string]string{"Tags.1.Key": "env", "Tags.1.Value": "dev"}, true},
		// The SDK leaves query names unencoded in the V3 canonical request;
		// no Alibaba parameter name needs encoding, so this never matters.
		{"name needing encoding/SDK differs", map[string]string{"a b": "1"}, false},
	}
	headers := map[string]*string{
		"host": dara.String("127.0.0.1:8080"), "x-acs-action": dara.String("A"),
		"x-acs-date": dara.String("2026-11-27T23:16:51Z"), "user-agent": dara.String("ignored"),
	}
	signed := []string{"host", "x-acs-action", "x-acs-date"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := map[string]*string{}
			query := url.Values{}
			for k, v := range tt.query {
				q[k] = dara.String(v)
				query.Set(k, v)
			}
			req := &dara.Request{Method: dara.String("POST"), Pathname: dara.String("/"), Query: q, Headers: headers}
			auth := dara.StringValue(openapiutil.GetAuthorization(req, dara.String("ACS3-HMAC-SHA256"), dara.String(emptySHA256), dara.String(testKeyID), dara.String(testSecret)))
			a, err := acsauth.ParseAuthorization(auth)
			if err != nil {
				t.Fatalf("ParseAuthorization(%q): %v", auth, err)
			}
			header := http.Header{}
			for k, v := range headers {
				if k != "host" {
					header.Set(k, *v)
				}
			}
			canonical := acsauth.V3CanonicalRequest("POST", "/", query, header, "127.0.0.1:8080", signed, emptySHA256)
			got := acsauth.V3Signature([]byte(testSecret), acsauth.V3StringToSign(canonical))
			if same := got == a.Signature; same != tt.wantSame {
				t.Errorf("got signature %s, SDK %s: same = %v, want %v", got, a.Signature, same, tt.wantSame)
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	const sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	good := acsauth.Authorization{
		Algorithm: "ACS3-HMAC-SHA256", AccessKeyID: "LTAI-FAKE",
		SignedHeaders: []string{"host", "x-acs-action"}, Signature: sig,
	}
	tests := []struct {
		name    string
		in      string
		want    acsauth.Authorization
		wantMsg string // substring of the *Error message; "" means success
	}{
		{"ok/sdk format", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host;x-acs-action,Signature=" + sig, good, ""},
		{"ok/parts in another order", "ACS3-HMAC-SHA256 Signature=" + sig + ",Credential=LTAI-FAKE,SignedHeaders=host;x-acs-action", good, ""},
		{"error/empty", "", acsauth.Authorization{}, "empty"},
		{"error/algorithm only", "ACS3-HMAC-SHA256", acsauth.Authorization{}, "Malformed"},
		{"error/missing algorithm", "Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "Malformed"},
		{"error/missing credential", "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "no Credential"},
		{"error/empty credential", "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "no Credential"},
		{"error/missing signed headers", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,Signature=" + sig, acsauth.Authorization{}, "no SignedHeaders"},
		{"error/empty signed headers", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=,Signature=" + sig, acsauth.Authorization{}, "no SignedHeaders"},
		{"error/missing signature", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host", acsauth.Authorization{}, "no Signature"},
		{"error/space after comma", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE, SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "whitespace"},
		{"error/two spaces after algorithm", "ACS3-HMAC-SHA256  Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "whitespace"},
		{"error/trailing space", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + sig + " ", acsauth.Authorization{}, "whitespace"},
		{"error/unknown algorithm sm3", "ACS3-HMAC-SM3 Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, `"ACS3-HMAC-SM3": only ACS3-HMAC-SHA256 is supported`},
		{"error/lower-case algorithm", "acs3-hmac-sha256 Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "only ACS3-HMAC-SHA256 is supported"},
		{"error/empty header name", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host;;x-acs-action,Signature=" + sig, acsauth.Authorization{}, "not a lower-case header name"},
		{"error/upper-case header name", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=Host,Signature=" + sig, acsauth.Authorization{}, "not a lower-case header name"},
		{"error/duplicate header name", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host;host,Signature=" + sig, acsauth.Authorization{}, "twice"},
		{"error/non-hex signature", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + strings.Repeat("g", 64), acsauth.Authorization{}, "hex"},
		{"error/upper-case hex signature", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + strings.ToUpper(sig), acsauth.Authorization{}, "hex"},
		{"error/short signature", "ACS3-HMAC-SHA256 Credential=LTAI-FAKE,SignedHeaders=host,Signature=" + sig[:63], acsauth.Authorization{}, "hex"},
		{"error/duplicate part", "ACS3-HMAC-SHA256 Credential=A,Credential=B,SignedHeaders=host,Signature=" + sig, acsauth.Authorization{}, "twice"},
		{"error/unknown part", "ACS3-HMAC-SHA256 Credential=A,SignedHeaders=host,Signature=" + sig + ",Region=cn", acsauth.Authorization{}, "unknown part"},
		{"error/part without equals", "ACS3-HMAC-SHA256 Credential=A,SignedHeaders=host,Signature", acsauth.Authorization{}, "not key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := acsauth.ParseAuthorization(tt.in)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				if got.Algorithm != tt.want.Algorithm || got.AccessKeyID != tt.want.AccessKeyID ||
					strings.Join(got.SignedHeaders, ";") != strings.Join(tt.want.SignedHeaders, ";") || got.Signature != tt.want.Signature {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			checkError(t, err, "IncompleteSignature", tt.wantMsg)
		})
	}
}

// checkError asserts that err is an *acsauth.Error with the given code,
// status 400 and a message containing msg.
func checkError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *acsauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *acsauth.Error", err, err)
	}
	if e.Code != code {
		t.Errorf("Code: got %q, want %q", e.Code, code)
	}
	if e.Status != http.StatusBadRequest {
		t.Errorf("Status: got %d, want %d", e.Status, http.StatusBadRequest)
	}
	if !strings.Contains(e.Message, msg) {
		t.Errorf("Message: got %q, want it to contain %q", e.Message, msg)
	}
	if !strings.HasPrefix(e.Error(), "acsauth: "+code+": ") {
		t.Errorf("Error(): got %q, want prefix %q", e.Error(), "acsauth: "+code+": ")
	}
}

func TestCheckSignedHeaders(t *testing.T) {
	base := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-credentials-provider", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	withType := append([]string{"content-type"}, base...)
	formHeader := func() http.Header {
		h := capturedHeader()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		return h
	}
	tests := []struct {
		name    string
		signed  []string
		header  http.Header
		hasBody bool
		wantMsg string // "" means no error
	}{
		{"ok/no body", base, capturedHeader(), false, ""},
		{"ok/body with content-type signed", withType, formHeader(), true, ""},
		{"ok/unsigned accept and user-agent", base, capturedHeader(), false, ""},
		{"ok/unsigned content-type without body", base, formHeader(), false, ""},
		{"error/x-acs header present but not signed", base, func() http.Header {
			h := capturedHeader()
			h.Set("X-Acs-Security-Token", "sts")
			return h
		}(), false, `"x-acs-security-token" is present but not in SignedHeaders`},
		{"error/signed header absent", base, func() http.Header {
			h := capturedHeader()
			h.Del("X-Acs-Date")
			return h
		}(), false, `"x-acs-date" is absent`},
		{"error/content-type not signed with body", base, formHeader(), true, "must include content-type"},
		{"error/content-type signed but absent", withType, capturedHeader(), true, `"content-type" is absent`},
		{"error/host not signed", base[1:], capturedHeader(), false, "must include host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := acsauth.CheckSignedHeaders(acsauth.Authorization{SignedHeaders: tt.signed}, tt.header, tt.hasBody)
			if tt.wantMsg == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			checkError(t, err, "IncompleteSignature", tt.wantMsg)
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", "abc", "abc", true},
		{"both empty", "", "", true},
		{"different last byte", "abc", "abd", false},
		{"prefix", "abc", "ab", false},
		{"empty vs non-empty", "", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acsauth.Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
