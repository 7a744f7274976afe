package acsauth_test

import (
	"fmt"
	"net/url"
	"testing"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/certstatus/certstatus/internal/acsauth"
)

func TestPercentEncode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"unreserved/kept", "AZaz09-_.~", "AZaz09-_.~"},
		{"space/percent 20 not plus", "a b", "a%20b"},
		{"star/encoded", "*", "%2A"},
		{"tilde/kept", "~", "~"},
		{"plus/encoded", "+", "%2B"},
		{"slash/encoded", "/", "%2F"},
		{"percent/encoded", "%2C", "%252C"},
		{"ampersand and equals", "&=", "%26%3D"},
		{"sub-delims kept by encodeURIComponent", "!'()", "%21%27%28%29"},
		{"gen-delims", ":?#[]@", "%3A%3F%23%5B%5D%40"},
		{"comma semicolon dollar", ",;$", "%2C%3B%24"},
		{"quotes and backslash", "\"`\\", "%22%60%5C"},
		{"control/newline cr tab", "\n\r\t", "%0A%0D%09"},
		{"control/nul and del", "\x00\x7f", "%00%7F"},
		{"utf-8/two bytes", "é", "%C3%A9"},
		{"utf-8/three bytes", "测试", "%E6%B5%8B%E8%AF%95"},
		{"utf-8/four bytes", "😀", "%F0%9F%98%80"},
		{"invalid utf-8/raw bytes", "\xff\xfe", "%FF%FE"},
		{"hex/upper case", "\xab", "%AB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acsauth.PercentEncode(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPercentEncode_EveryByte checks all 256 byte values and that the
// result always decodes back to the input.
func TestPercentEncode_EveryByte(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		want := fmt.Sprintf("%%%02X", b)
		if 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == '.' || b == '~' {
			want = string(b)
		}
		got := acsauth.PercentEncode(string([]byte{b}))
		if got != want {
			t.Errorf("byte %#02x: got %q, want %q", b, got, want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != string([]byte{b}) {
			t.Errorf("byte %#02x: unescape got %q, %v, want the byte back", b, back, err)
		}
	}
}

func TestV1StringToSign(t *testing.T) {
	tests := []struct {
		name   string
		method string
		params url.Values
		want   string
	}{
		{
			name:   "double encoded/comma becomes %252C",
			method: "POST",
			params: url.Values{"Action": {"DescribeClientCertificateStatus"}, "Identifier": {"id-aaa,id-bbb"}},
			want:   "POST&%2F&Action%3DDescribeClientCertificateStatus%26Identifier%3Did-aaa%252Cid-bbb",
		},
		{
			name:   "signature/excluded",
			method: "POST",
			params: url.Values{"A": {"1"}, "Signature": {"abc="}},
			want:   "POST&%2F&A%3D1",
		},
		{
			name:   "empty value/included as k=",
			method: "POST",
			params: url.Values{"SignatureType": {""}, "A": {"1"}},
			want:   "POST&%2F&A%3D1%26SignatureType%3D",
		},
		{
			name:   "sort/byte order of encoded names",
			method: "GET",
			params: url.Values{"b": {"1"}, "a": {"2"}, "B": {"3"}, "a.1": {"4"}},
			want:   "GET&%2F&B%3D3%26a%3D2%26a.1%3D4%26b%3D1",
		},
		{
			name:   "multi-valued/every value sorted",
			method: "POST",
			params: url.Values{"k": {"z", "a b", "a"}},
			want:   "POST&%2F&k%3Da%26k%3Da%2520b%26k%3Dz",
		},
		{
			name:   "space star tilde/rfc 3986",
			method: "POST",
			params: url.Values{"v": {"a b*c~d+e"}},
			want:   "POST&%2F&v%3Da%2520b%252Ac~d%252Be",
		},
		{
			name:   "no parameters",
			method: "POST",
			params: url.Values{},
			want:   "POST&%2F&",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acsauth.V1StringToSign(tt.method, tt.params); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestV1Signature_DocumentedExample uses the worked example of the Alibaba
// Cloud RPC signature documentation (ECS DescribeRegions, secret
// "testsecret").
func TestV1Signature_DocumentedExample(t *testing.T) {
	params := url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"Format":           {"XML"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Version":          {"2014-05-26"},
	}
	sts := acsauth.V1StringToSign("GET", params)
	wantSTS := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if sts != wantSTS {
		t.Errorf("string to sign: got %q, want %q", sts, wantSTS)
	}
	if got, want := acsauth.V1Signature([]byte("testsecret"), sts), "OLeaidS1JvxuMvnyHOwuJ+uX5qY="; got != want {
		t.Errorf("signature: got %q, want %q", got, want)
	}
}

// TestV1Signature_MatchesOfficialUtil compares with the SDK's own
// GetRPCSignature, which signs from the undecoded parameter map.
func TestV1Signature_MatchesOfficialUtil(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
	}{
		{"ascii", map[string]string{"Action": "DescribeClientCertificateStatus", "Identifier": "id-1"}},
		{"awkward values", map[string]string{"Identifier": "a b+c*d~e/%&=\n测试", "Empty": ""}},
		{"flattened names", map[string]string{"Tags.1.Key": "env", "Tags.1.Value": "dev test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed := map[string]*string{}
			params := url.Values{}
			for k, v := range tt.params {
				signed[k] = dara.String(v)
				params.Set(k, v)
			}
			want := dara.StringValue(openapiutil.GetRPCSignature(signed, dara.String("POST"), dara.String(testSecret)))
			if got := acsauth.V1Signature([]byte(testSecret), acsauth.V1StringToSign("POST", params)); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestV1Signature_DoesNotModifySecret(t *testing.T) {
	backing := []byte("secretXYZ")
	secret := backing[:6] // spare capacity: an append would write into backing
	acsauth.V1Signature(secret, "POST&%2F&")
	if got, want := string(backing), "secretXYZ"; got != want {
		t.Errorf("backing array: got %q, want %q", got, want)
	}
}
