package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// TestServe_AlibabaSDKWithBootstrapKey: a new user starts serve and points
// the official Alibaba client at it with the key from admin-accesskey.json.
func TestServe_AlibabaSDKWithBootstrapKey(t *testing.T) {
	c := newCLI(t, filepath.Join(t.TempDir(), "d"))
	c.env["CERTSTATUS_CRL_VALIDITY"] = "72h"
	apiURL, _, _, stop := startServe(t, c)
	defer stop()
	raw, err := os.ReadFile(filepath.Join(c.env["CERTSTATUS_DATA"], AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ AccessKeyId, AccessKeySecret string }
	json.Unmarshal(raw, &k)
	endpoint := strings.TrimPrefix(apiURL, "http://")
	cl, err := openapi.NewClient(&openapiutil.Config{AccessKeyId: dara.String(k.AccessKeyId), AccessKeySecret: dara.String(k.AccessKeySecret),
		Endpoint: dara.String(endpoint), Protocol: dara.String("HTTP")})
	if err != nil {
		t.Fatal(err)
	}
	call := func(action string, q map[string]any) map[string]any {
		t.Helper()
		out, err := cl.CallApi(&openapiutil.Params{Action: dara.String(action), Version: dara.String("2020-06-30"), Protocol: dara.String("HTTPS"),
			Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"), Style: dara.String("RPC"),
			ReqBodyType: dara.String("formData"), BodyType: dara.String("json")},
			&openapiutil.OpenApiRequest{Query: openapiutil.Query(q)}, &dara.RuntimeOptions{NoProxy: dara.String(endpoint)})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return out["body"].(map[string]any)
	}
	list := call("DescribeCACertificateList", map[string]any{"CertType": "subRoot"})
	subs := list["CertificateList"].([]any)
	if len(subs) != 1 {
		t.Fatalf("sub CAs: %v", list)
	}
	sub := subs[0].(map[string]any)["Identifier"].(string)
	id := call("CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "first", "Days": 7})["Identifier"].(string)
	st := call("DescribeClientCertificateStatus", map[string]any{"Identifier": id})["CertificateStatus"].([]any)
	if st[0].(map[string]any)["Status"] != "good" {
		t.Errorf("status: %v", st)
	}
	// The CRL policy reaches the API: CrlDay is --crl-validity in days.
	ca := call("DescribeCACertificate", map[string]any{"Identifier": sub})["Certificate"].(map[string]any)
	if n, _ := ca["CrlDay"].(json.Number).Int64(); n != 3 {
		t.Errorf("CrlDay %v with --crl-validity 72h, want 3", ca["CrlDay"])
	}
}
