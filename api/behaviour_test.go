package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/certstatus/certstatus/certs"
)

// caParams are the subject fields CreateRoot/SubCACertificate require.
func caParams(cn string, extra map[string]any) map[string]any {
	q := map[string]any{"CommonName": cn, "Organization": "Example", "OrganizationUnit": "PKI", "Locality": "Hangzhou",
		"State": "Zhejiang", "Years": 1, "Algorithm": "ECC_256"}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

func pemCert(t *testing.T, s any) *x509.Certificate {
	t.Helper()
	str, _ := s.(string)
	b, _ := pem.Decode([]byte(str))
	if b == nil {
		t.Fatalf("no PEM certificate in %q", s)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CountryCode is optional, as in Alibaba's model: a root gets XX, a sub CA
// its parent's.
func TestSDK_CountryOptional(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	root := c.ok("CreateRootCACertificate", caParams("No Country Root", nil))
	if got := pemCert(t, root["Certificate"]).Subject.Country; !slices.Equal(got, []string{"XX"}) {
		t.Errorf("root country %v, want [XX]", got)
	}
	cnRoot := c.ok("CreateRootCACertificate", caParams("CN Root", map[string]any{"CountryCode": "CN"}))
	sub := c.ok("CreateSubCACertificate", caParams("Inheriting Sub", map[string]any{"ParentIdentifier": cnRoot["Identifier"]}))
	if got := pemCert(t, sub["Certificate"]).Subject.Country; !slices.Equal(got, []string{"CN"}) {
		t.Errorf("sub CA country %v, want the parent's [CN]", got)
	}
}

// ExtendedKeyUsages and CertMaxTime constrain a sub CA: the EKUs are in its
// certificate, a CLIENT certificate from a serverAuth CA is refused (and a
// SERVER one from a clientAuth CA), and a validity beyond CertMaxTime days
// is refused rather than cut. ParentIdentifier may be left out while one
// root can sign, and must be chosen when several can.
func TestSDK_SubCAConstraints(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	srv := c.ok("CreateSubCACertificate", caParams("Server Sub", map[string]any{
		"ExtendedKeyUsages": []string{"serverAuth"}, "CertMaxTime": 30,
	}))
	x := pemCert(t, srv["Certificate"])
	if !slices.Contains(x.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || slices.Contains(x.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Errorf("server sub CA EKUs %v", x.ExtKeyUsage)
	}
	if !strings.Contains(srv["CertificateChain"].(string), strings.TrimSpace(string(certs.EncodeCertPEM(e.root.DER)))) {
		t.Error("without ParentIdentifier the sub CA is not under the one root")
	}
	cli := c.ok("CreateSubCACertificate", caParams("Client Sub", map[string]any{"ParentIdentifier": string(e.root.Identifier), "ExtendedKeyUsages": []string{"clientAuth"}}))
	srvID, cliID := srv["Identifier"].(string), cli["Identifier"].(string)

	se := c.fails("InvalidParameter", 400, "CreateClientCertificate", map[string]any{"ParentIdentifier": srvID, "CommonName": "dev", "Days": 10})
	if msg := tea.StringValue(se.Message); !strings.Contains(msg, "limited to the extended key usages serverAuth") || strings.Contains(msg, "certs:") {
		t.Errorf("client under server CA: %s", msg)
	}
	c.fails("InvalidParameter", 400, "CreateServerCertificate", map[string]any{"ParentIdentifier": cliID, "CommonName": "a.example.com", "Days": 10})
	se = c.fails("InvalidParameter", 400, "CreateServerCertificate", map[string]any{"ParentIdentifier": srvID, "CommonName": "a.example.com", "Days": 31})
	if msg := tea.StringValue(se.Message); !strings.Contains(msg, "at most 30 days") {
		t.Errorf("beyond CertMaxTime: %s", msg)
	}
	ok := c.ok("CreateServerCertificate", map[string]any{"ParentIdentifier": srvID, "CommonName": "a.example.com", "Days": 30, "Immediately": 1})
	if leaf := pemCert(t, ok["X509Certificate"]); leaf.NotAfter.Sub(leaf.NotBefore).Hours() > 30*24+1 {
		t.Errorf("leaf validity %v", leaf.NotAfter.Sub(leaf.NotBefore))
	}
	c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": cliID, "CommonName": "dev", "Days": 300})

	// A second root makes the parent ambiguous: the error names both.
	c.ok("CreateRootCACertificate", caParams("Second Root", nil))
	se = c.fails("InvalidParameter", 400, "CreateSubCACertificate", caParams("Ambiguous", nil))
	if msg := tea.StringValue(se.Message); !strings.Contains(msg, "ParentIdentifier") || !strings.Contains(msg, string(e.root.Identifier)) {
		t.Errorf("ambiguous parent: %s", msg)
	}
	c.fails("InvalidParameter", 400, "CreateSubCACertificate", caParams("Bad EKU", map[string]any{"ParentIdentifier": string(e.root.Identifier), "ExtendedKeyUsages": []string{"OCSPSigning"}}))
	c.fails("InvalidParameter", 400, "CreateSubCACertificate", caParams("Bad cap", map[string]any{"ParentIdentifier": string(e.root.Identifier), "CertMaxTime": 0}))
}

// With no root able to sign, an absent ParentIdentifier is MissingParameter.
func TestSDK_SubCANoRoot(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": string(e.root.Identifier), "Status": "FORBIDDEN"})
	se := c.fails("MissingParameter", 400, "CreateSubCACertificate", caParams("Orphan", nil))
	if !strings.Contains(tea.StringValue(se.Message), "ParentIdentifier") {
		t.Errorf("message %s", tea.StringValue(se.Message))
	}
}

// DeleteClientCertificate deletes only a revoked certificate, as Alibaba
// does: a good one is refused with InvalidStatus.NotRevoked and stays
// listed, described and good.
func TestSDK_DeleteRequiresRevocation(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	id := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "dev", "Days": 10})["Identifier"].(string)
	se := c.fails("InvalidStatus.NotRevoked", 400, "DeleteClientCertificate", map[string]any{"Identifier": id})
	if msg := tea.StringValue(se.Message); !strings.Contains(msg, "revoke it before deleting it") || strings.Contains(msg, "certs:") {
		t.Errorf("message %s", msg)
	}
	if r, err := e.store.Get(t.Context(), certs.Identifier(id)); err != nil || r.Deleted {
		t.Fatalf("after the refused delete: deleted=%v %v", r.Deleted, err)
	}
	c.ok("DescribeClientCertificate", map[string]any{"Identifier": id})
	if st := statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": id})); st[0]["Status"] != "good" {
		t.Fatalf("status %v", st)
	}
	c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": id})
	se = c.fails("InvalidStatus.AlreadyRevoked", 400, "CreateRevokeClientCertificate", map[string]any{"Identifier": id})
	if msg := tea.StringValue(se.Message); strings.Contains(msg, "db:") || strings.Contains(msg, "certs:") {
		t.Errorf("internal prefix in %q", msg)
	}
	c.ok("DeleteClientCertificate", map[string]any{"Identifier": id})
	c.fails("NotFound.Certificate", 404, "DescribeClientCertificate", map[string]any{"Identifier": id})
}

// A malformed identifier in a DescribeClientCertificateStatus batch gets an
// "unknown" entry of its own; the well-formed ones are answered, in order.
func TestSDK_StatusBatchMalformed(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	good := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "dev", "Days": 10})["Identifier"].(string)
	missing := newIdentifier()
	st := statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": good + ",not-an-identifier," + missing + ",not-an-identifier"}))
	if len(st) != 3 {
		t.Fatalf("entries %v, want 3", st)
	}
	want := []struct{ id, status string }{{good, "good"}, {"not-an-identifier", "unknown"}, {missing, "unknown"}}
	for i, w := range want {
		if st[i]["Identifier"] != w.id || st[i]["Status"] != w.status {
			t.Errorf("entry %d = %v, want %s %s", i, st[i], w.id, w.status)
		}
	}
	if st[1]["SerialNumber"] != "" || st[0]["SerialNumber"] == "" {
		t.Errorf("serials %v %v", st[0]["SerialNumber"], st[1]["SerialNumber"])
	}
	only := statusOf(t, c.ok("DescribeClientCertificateStatus", map[string]any{"Identifier": "zz"}))
	if len(only) != 1 || only[0]["Status"] != "unknown" {
		t.Errorf("all malformed: %v", only)
	}
}

// newCSR returns a PEM CSR for a fresh P-256 key, with extra extensions.
func newCSR(t *testing.T, cn string, exts ...pkix.Extension) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, ExtraExtensions: exts}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}
