package api_test

import (
	"strings"
	"testing"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/certstatus/certstatus/api"
)

// TestSDK_MissingResource walks every served action: one naming a
// certificate or CA that does not exist answers the one code of that
// resource (NotFound.Certificate, NotFound.CA; NotFound.Resource where the
// identifier may be either), 404, a message naming the identifier, and no
// internal prefix (db:, certs:, ca:). The actions that take no such
// identifier are listed with the reason, so that a new action must be
// placed in one list or the other.
func TestSDK_MissingResource(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	csr := newCSR(t, "missing")
	id := newIdentifier()
	caFields := caParams("Missing Parent", map[string]any{"ParentIdentifier": id})

	cases := map[string]struct {
		code string
		q    map[string]any
	}{
		"CreateSubCACertificate":         {"NotFound.CA", caFields},
		"CreateClientCertificate":        {"NotFound.CA", map[string]any{"ParentIdentifier": id, "CommonName": "x", "Days": 1}},
		"CreateServerCertificate":        {"NotFound.CA", map[string]any{"ParentIdentifier": id, "CommonName": "a.example.com", "Days": 1}},
		"CreateClientCertificateWithCsr": {"NotFound.CA", map[string]any{"ParentIdentifier": id, "Csr": csr, "Days": 1}},
		"CreateServerCertificateWithCsr": {"NotFound.CA", map[string]any{"ParentIdentifier": id, "Csr": csr, "Domain": "a.example.com", "Days": 1}},
		"CreateCustomCertificate": {"NotFound.CA", map[string]any{"ParentIdentifier": id, "Csr": csr, "Validity": "1d",
			"ApiPassthrough": map[string]any{"Extensions": map[string]any{"KeyUsage": map[string]any{"DigitalSignature": true}, "ExtendedKeyUsages": []string{"clientAuth"}}}}},
		"CreateRevokeClientCertificate": {"NotFound.Certificate", map[string]any{"Identifier": id}},
		"DeleteClientCertificate":       {"NotFound.Certificate", map[string]any{"Identifier": id}},
		"UpdateCACertificateStatus":     {"NotFound.CA", map[string]any{"Identifier": id, "Status": "FORBIDDEN"}},
		"UpdatePcaCertificate":          {"NotFound.CA", map[string]any{"Identifier": id, "AliasName": "x"}},
		"DescribeCACertificate":         {"NotFound.CA", map[string]any{"Identifier": id}},
		"GetCAInstanceStatus":           {"NotFound.CA", map[string]any{"Identifier": id}},
		"GetCaInstanceCrlAddress":       {"NotFound.CA", map[string]any{"CaIdentifier": id}},
		"DescribeClientCertificate":     {"NotFound.Certificate", map[string]any{"Identifier": id}},
		"DescribeCertificatePrivateKey": {"NotFound.Certificate", map[string]any{"Identifier": id, "EncryptedCode": "password1"}},
		"TagResources":                  {"NotFound.Resource", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "certificate", "ResourceId": []string{id}, "Tag": []map[string]any{{"Key": "k", "Value": "v"}}}},
		"UntagResources":                {"NotFound.Resource", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "certificate", "ResourceId": []string{id}, "All": true}},
		"ListCACertificateLog":          {"NotFound.CA", map[string]any{"Identifier": id}},
		"MoveResourceGroup":             {"NotFound.Resource", map[string]any{"ResourceId": id, "ResourceGroupId": "rg-1", "ResourceType": "instance"}},
	}
	noIdentifier := map[string]string{
		"DescribeClientCertificateStatus":                "an unknown identifier is answered Status unknown, as Alibaba documents",
		"DescribeClientCertificateStatusForSerialNumber": "an unknown serial is answered Status unknown",
		"DescribeClientCertificateForSerialNumber":       "a serial, not an identifier: an unknown one lists nothing",
		"CreateRootCACertificate":                        "names no existing resource",
		"DescribeCACertificateList":                      "Identifier is a filter: an unknown one lists nothing",
		"DescribeCACertificateCount":                     "names no resource",
		"ListPcaCaCertificate":                           "names no resource",
		"ListClientCertificate":                          "names no resource",
		"ListCert":                                       "names no resource",
		"ListRevokeCertificate":                          "names no resource",
		"ListTagResources":                               "ResourceId.N selects: an unknown one lists nothing",
		"DescribePcaAndExternalCACertificateList":        "Identifiers is a filter: an unknown one lists nothing",
	}
	for _, a := range api.ActionNames() {
		_, walked := cases[a]
		if _, why := noIdentifier[a]; walked == why {
			t.Errorf("%s: in both or neither of the tables", a)
		}
	}
	for action, tc := range cases {
		t.Run(action, func(t *testing.T) {
			cc := *c
			cc.t = t
			se := cc.fails(tc.code, 404, action, tc.q)
			msg := tea.StringValue(se.Message)
			if !strings.Contains(msg, id) {
				t.Errorf("message %q does not name %s", msg, id)
			}
			for _, prefix := range []string{"db:", "certs:", "ca:", "api:"} {
				if strings.Contains(msg, prefix) {
					t.Errorf("message %q carries the internal prefix %q", msg, prefix)
				}
			}
		})
	}
	// MoveResourceGroup names the kind it was told.
	c.fails("NotFound.Certificate", 404, "MoveResourceGroup", map[string]any{"ResourceId": id, "ResourceGroupId": "rg-1", "ResourceType": "certificate"})
	c.fails("NotFound.CA", 404, "MoveResourceGroup", map[string]any{"ResourceId": id, "ResourceGroupId": "rg-1", "ResourceType": "ca"})
}
