package api_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// num reads a JSON number the SDK decoded.
func num(t *testing.T, v any) int64 {
	t.Helper()
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			t.Fatalf("%v is not an integer", n)
		}
		return i
	}
	t.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

func statusOf(t *testing.T, b map[string]any) []map[string]any {
	t.Helper()
	raw, _ := b["CertificateStatus"].([]any)
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

// TestSDK_Lifecycle drives the whole lifecycle through the official client,
// in V3 and in V1 mode: create CAs, issue, status good, revoke, status
// revoked with the stored RevokeTime, delete, still revoked.
func TestSDK_Lifecycle(t *testing.T) {
	for _, mode := range []struct {
		name string
		v1   bool
	}{{"V3", false}, {"V1", true}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := e.sdk(e.admin, mode.v1)

			root := c.ok("CreateRootCACertificate", map[string]any{
				"CommonName": "SDK Root", "Organization": "Example", "OrganizationUnit": "PKI",
				"Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN", "Years": 10, "Algorithm": "ECC_256",
			})
			rootID := root["Identifier"].(string)
			if !strings.Contains(root["Certificate"].(string), "BEGIN CERTIFICATE") {
				t.Fatalf("root: %v", root)
			}
			sub := c.ok("CreateSubCACertificate", map[string]any{
				"ParentIdentifier": rootID, "CommonName": "SDK Sub", "Organization": "Example", "OrganizationUnit": "PKI",
				"Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN", "Years": 5, "Algorithm": "ECC_256",
			})
			subID := sub["Identifier"].(string)
			if strings.Count(sub["CertificateChain"].(string), "BEGIN CERTIFICATE") != 2 {
				t.Errorf("sub chain: %v", sub["CertificateChain"])
			}

			issued := c.ok("CreateClientCertificate", map[string]any{
				"ParentIdentifier": subID, "CommonName": "device 7", "Days": 30, "SanType": 1,
				"SanValue": "dev7@example.com", "Immediately": 2, "AliasName": "dev7",
				"Tags": []map[string]any{{"Key": "env", "Value": "prod"}},
			})
			id := issued["Identifier"].(string)
			serial := issued["SerialNumber"].(string)
			b, _ := pem.Decode([]byte(issued["X509Certificate"].(string)))
			if b == nil {
				t.Fatalf("no certificate: %v", issued)
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil || certs.SerialFromBig(cert.SerialNumber) != certs.Serial(serial) || cert.EmailAddresses[0] != "dev7@example.com" {
				t.Fatalf("certificate: %v %v", cert, err)
			}
			if cert.Subject.Locality[0] != "Hangzhou" {
				t.Errorf("locality not defaulted from the issuing CA: %v", cert.Subject)
			}
			if strings.Count(issued["CertificateChain"].(string), "BEGIN CERTIFICATE") != 2 {
				t.Errorf("Immediately=2 without chain")
			}

			st := statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": id}))
			if len(st) != 1 || st[0]["Status"] != "good" || st[0]["SerialNumber"] != serial || st[0]["RevokeTime"] != nil {
				t.Fatalf("status before revoke: %v", st)
			}

			c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": id})
			rec, err := e.store.Get(t.Context(), certs.Identifier(id))
			if err != nil || rec.State != certs.StateRevoked {
				t.Fatalf("store after revoke: %v %v", rec.State, err)
			}
			st = statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": id}))
			if st[0]["Status"] != "revoked" || num(t, st[0]["RevokeTime"]) != rec.RevokedAt.UnixMilli() {
				t.Fatalf("status after revoke: %v (stored %v)", st, rec.RevokedAt)
			}
			if d := time.Since(time.UnixMilli(num(t, st[0]["RevokeTime"]))); d < 0 || d > time.Minute {
				t.Errorf("RevokeTime %v is not now", st[0]["RevokeTime"])
			}
			c.fails("InvalidStatus.AlreadyRevoked", 400, "CreateRevokeClientCertificate", map[string]any{"Identifier": id})

			c.ok("DeleteClientCertificate", map[string]any{"Identifier": id})
			st = statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": id}))
			if st[0]["Status"] != "revoked" {
				t.Fatalf("deleted certificate became %v", st[0]["Status"])
			}
			bySerial := statusOf(t, c.ok("DescribeClientCertificateStatusForSerialNumber", map[string]any{"SerialNumber": strings.ToUpper(serial)}))
			if len(bySerial) != 1 || bySerial[0]["Status"] != "revoked" {
				t.Fatalf("by serial after delete: %v", bySerial)
			}
			c.fails("NotFound.Certificate", 404, "DescribeClientCertificate", map[string]any{"Identifier": id})
			c.fails("NotFound.Certificate", 404, "DeleteClientCertificate", map[string]any{"Identifier": id})
		})
	}
}
