package api_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"

	"github.com/certstatus/certstatus/certs"
)

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ListCACertificateLog answers from the audit trail: the CA's events,
// newest first, ADD for the creation and UPDATE for the rest, in the
// model's four fields.
func TestSDK_ListCACertificateLog(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	id := c.ok("CreateSubCACertificate", caParams("Logged Sub", map[string]any{"ParentIdentifier": string(e.root.Identifier)}))["Identifier"].(string)
	c.ok("UpdatePcaCertificate", map[string]any{"Identifier": id, "AliasName": "renamed"})
	c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": id, "Status": "FORBIDDEN"})
	c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": id, "Status": "ISSUE"})
	// Another CA's events are not this one's.
	c.ok("UpdatePcaCertificate", map[string]any{"Identifier": string(e.sub.Identifier), "AliasName": "other"})

	raw, _ := c.ok("ListCACertificateLog", map[string]any{"Identifier": id})["LogList"].([]any)
	var actions []string
	for i, r := range raw {
		m := r.(map[string]any)
		if got := keysOf(m); !slices.Equal(got, []string{"Content", "CreateTime", "Identifier", "OpType"}) {
			t.Fatalf("entry fields %v", got)
		}
		if m["Identifier"] != id {
			t.Errorf("entry %d is about %v", i, m["Identifier"])
		}
		if at := time.UnixMilli(num(t, m["CreateTime"])); time.Since(at) > time.Minute || time.Since(at) < -time.Minute {
			t.Errorf("CreateTime %v", at)
		}
		action, _, _ := strings.Cut(m["Content"].(string), ":")
		actions = append(actions, action)
		wantOp := "UPDATE"
		if action == "ca.create" {
			wantOp = "ADD"
		}
		if m["OpType"] != wantOp {
			t.Errorf("%s: OpType %v, want %s", action, m["OpType"], wantOp)
		}
	}
	if want := []string{"ca.enable", "ca.disable", "ca.update", "ca.create"}; !slices.Equal(actions, want) {
		t.Errorf("log %v, want %v (newest first)", actions, want)
	}
}

// MoveResourceGroup changes the stored ResourceGroupId of a certificate or
// a CA, as an audited update by the caller.
func TestSDK_MoveResourceGroup(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, true)
	cert := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "dev", "Days": 10, "ResourceGroupId": "rg-old"})["Identifier"].(string)
	c.ok("MoveResourceGroup", map[string]any{"ResourceId": cert, "ResourceGroupId": "rg-new", "ResourceType": "certificate", "RegionId": "cn-hangzhou"})
	if r, err := e.store.Get(t.Context(), certs.Identifier(cert)); err != nil || r.ResourceGroupID != "rg-new" {
		t.Fatalf("certificate group %q %v", r.ResourceGroupID, err)
	}
	c.ok("MoveResourceGroup", map[string]any{"ResourceId": string(e.sub.Identifier), "ResourceGroupId": "rg-ca", "ResourceType": "instance"})
	if ca, err := e.store.CA(t.Context(), e.sub.Identifier); err != nil || ca.ResourceGroupID != "rg-ca" {
		t.Fatalf("CA group %q %v", ca.ResourceGroupID, err)
	}
	var audited []string
	e.store.Audit(t.Context(), 1, func(ev certs.AuditEvent) bool {
		if ev.Actor == e.admin.ID && strings.Contains(ev.Details, `resource_group="rg-`) {
			audited = append(audited, ev.Action+" "+ev.Subject)
		}
		return true
	})
	if want := []string{"certificate.update " + cert, "ca.update " + string(e.sub.Identifier)}; !slices.Equal(audited, want) {
		t.Errorf("audit %v, want %v", audited, want)
	}
	c.fails("InvalidParameter", 400, "MoveResourceGroup", map[string]any{"ResourceId": cert, "ResourceGroupId": "rg-1", "ResourceType": "bucket"})
	c.fails("InvalidParameter", 400, "MoveResourceGroup", map[string]any{"ResourceId": cert, "ResourceGroupId": "rg 1", "ResourceType": "certificate"})
	c.fails("MissingParameter", 400, "MoveResourceGroup", map[string]any{"ResourceId": cert, "ResourceType": "certificate"})
	// A CA is not a certificate.
	c.fails("NotFound.Certificate", 404, "MoveResourceGroup", map[string]any{"ResourceId": string(e.sub.Identifier), "ResourceGroupId": "rg-1", "ResourceType": "certificate"})
}

// pcaExtModel is the field list of the model's CertificateList item.
var pcaExtModel = []string{"AfterDate", "Algorithm", "BeforeDate", "CertificateType", "CommonName", "CountryCode", "Identifier",
	"KeySize", "Locality", "Md5", "Organization", "OrganizationUnit", "ParentIdentifier", "Sans", "SerialNumber", "Sha2",
	"SignAlgorithm", "State", "Status", "SubjectDN", "X509Certificate", "Years"}

// DescribePcaAndExternalCACertificateList lists the CAs, newest first, in
// exactly the model's fields and types, with Identifiers, KeyWord and
// paging.
func TestSDK_DescribePcaAndExternalCACertificateList(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	e.clock.Advance(time.Second)
	newest := c.ok("CreateSubCACertificate", caParams("Zebra Sub", map[string]any{"ParentIdentifier": string(e.root.Identifier)}))["Identifier"].(string)

	all := c.ok("DescribePcaAndExternalCACertificateList", nil)
	list, _ := all["CertificateList"].([]any)
	if num(t, all["TotalCount"]) != 3 || len(list) != 3 || num(t, all["CurrentPage"]) != 1 || num(t, all["ShowSize"]) != 50 {
		t.Fatalf("listing %v", all)
	}
	for _, r := range list {
		m := r.(map[string]any)
		if got := keysOf(m); !slices.Equal(got, pcaExtModel) {
			t.Fatalf("item fields %v,\nwant %v", got, pcaExtModel)
		}
		for _, n := range []string{"AfterDate", "BeforeDate", "KeySize", "Years"} {
			num(t, m[n])
		}
		for _, n := range pcaExtModel {
			if _, isNum := map[string]bool{"AfterDate": true, "BeforeDate": true, "KeySize": true, "Years": true}[n]; !isNum {
				if _, ok := m[n].(string); !ok {
					t.Errorf("%s is %T, want a string", n, m[n])
				}
			}
		}
	}
	if first := list[0].(map[string]any); first["Identifier"] != newest {
		t.Errorf("first item %v, want the newest CA %s", first["Identifier"], newest)
	}
	page := c.ok("DescribePcaAndExternalCACertificateList", map[string]any{"ShowSize": 1, "CurrentPage": 2})
	if l, _ := page["CertificateList"].([]any); len(l) != 1 || num(t, page["TotalCount"]) != 3 {
		t.Errorf("page 2 of 1: %v", page)
	}
	kw := c.ok("DescribePcaAndExternalCACertificateList", map[string]any{"KeyWord": "zebra"})
	if l, _ := kw["CertificateList"].([]any); len(l) != 1 || l[0].(map[string]any)["Identifier"] != newest {
		t.Errorf("KeyWord: %v", kw)
	}
	ids := c.ok("DescribePcaAndExternalCACertificateList", map[string]any{"Identifiers": string(e.root.Identifier) + "," + newIdentifier()})
	if l, _ := ids["CertificateList"].([]any); len(l) != 1 || l[0].(map[string]any)["Identifier"] != string(e.root.Identifier) {
		t.Errorf("Identifiers: %v", ids)
	}
	c.fails("InvalidParameter", 400, "DescribePcaAndExternalCACertificateList", map[string]any{"Identifiers": "nope"})
}

// custom builds CreateCustomCertificate parameters with ApiPassthrough.
func custom(parent, csr, validity string, pass map[string]any) map[string]any {
	return map[string]any{"ParentIdentifier": parent, "Csr": csr, "Validity": validity, "ApiPassthrough": pass, "Immediately": 2}
}

// CreateCustomCertificate issues what a private CA can vouch for, and
// refuses the rest with the reason.
func TestSDK_CreateCustomCertificate(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	sub := string(e.sub.Identifier)
	csr := newCSR(t, "custom")
	ku := map[string]any{"DigitalSignature": true, "KeyEncipherment": true}
	out := c.ok("CreateCustomCertificate", custom(sub, csr, "30d", map[string]any{
		"Subject": map[string]any{"Organization": "Example", "CustomAttributes": []map[string]any{{"ObjectIdentifier": "2.5.4.11", "Value": "Ops"}}},
		"Extensions": map[string]any{"KeyUsage": ku, "ExtendedKeyUsages": []string{"serverAuth", "clientAuth"},
			"Criticals":               []string{"keyUsage"},
			"SubjectAlternativeNames": []map[string]any{{"Type": "dNSName", "Value": "a.example.com"}, {"Type": "iPAddress", "Value": "10.0.0.1"}}},
	}))
	if got := keysOf(out); !slices.Equal(got, []string{"Certificate", "CertificateChain", "Identifier", "RequestId", "SerialNumber"}) {
		t.Errorf("response fields %v", got)
	}
	x := pemCert(t, out["Certificate"])
	if x.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment ||
		!slices.Equal(x.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) ||
		!slices.Equal(x.DNSNames, []string{"a.example.com"}) || len(x.IPAddresses) != 1 || !x.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")) ||
		x.Subject.CommonName != "custom" || !slices.Equal(x.Subject.Organization, []string{"Example"}) || !slices.Equal(x.Subject.OrganizationalUnit, []string{"Ops"}) || x.IsCA {
		t.Errorf("certificate: KU %b EKU %v SAN %v %v subject %v", x.KeyUsage, x.ExtKeyUsage, x.DNSNames, x.IPAddresses, x.Subject)
	}
	if d := x.NotAfter.Sub(x.NotBefore); d < 30*24*time.Hour || d > 30*24*time.Hour+10*time.Minute {
		t.Errorf("validity %v", d)
	}
	if strings.Count(out["CertificateChain"].(string), "BEGIN CERTIFICATE") != 2 {
		t.Error("no chain")
	}
	if r, err := e.store.Get(t.Context(), certs.Identifier(out["Identifier"].(string))); err != nil || r.Kind != certs.KindServer {
		t.Errorf("stored %v %v", r.Kind, err)
	}
	end := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	abs := c.ok("CreateCustomCertificate", custom(sub, newCSR(t, "signer"), end.Format("2006-01-02T15:04:05Z"),
		map[string]any{"Extensions": map[string]any{"KeyUsage": map[string]any{"NonRepudiation": true}, "ExtendedKeyUsages": []string{"codeSigning"}}}))
	if y := pemCert(t, abs["Certificate"]); !y.NotAfter.Equal(end) || y.KeyUsage != x509.KeyUsageContentCommitment {
		t.Errorf("absolute validity %v (want %v), KU %b", y.NotAfter, end, y.KeyUsage)
	}

	caCSR := newCSR(t, "wants CA", pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: mustASN1(t, struct{ IsCA bool }{true})})
	srvOnly := c.ok("CreateSubCACertificate", caParams("Server Only", map[string]any{"ParentIdentifier": string(e.root.Identifier), "ExtendedKeyUsages": []string{"serverAuth"}}))["Identifier"].(string)
	okExt := map[string]any{"KeyUsage": map[string]any{"DigitalSignature": true}, "ExtendedKeyUsages": []string{"clientAuth"}}
	for _, tc := range []struct {
		name, code, param string
		q                 map[string]any
	}{
		{"serial", "InvalidParameter", "ApiPassthrough.SerialNumber", custom(sub, csr, "1d", map[string]any{"SerialNumber": "16889526086333", "Extensions": okExt})},
		{"title attribute", "InvalidParameter", "ObjectIdentifier", custom(sub, csr, "1d", map[string]any{"Extensions": okExt,
			"Subject": map[string]any{"CustomAttributes": []map[string]any{{"ObjectIdentifier": "2.5.4.12", "Value": "CEO"}}}})},
		{"critical SAN", "InvalidParameter", "Criticals", custom(sub, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"], "ExtendedKeyUsages": okExt["ExtendedKeyUsages"], "Criticals": []string{"subjectAltName"}}})},
		{"directoryName", "InvalidParameter", "SubjectAlternativeNames.1.Type", custom(sub, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"], "ExtendedKeyUsages": okExt["ExtendedKeyUsages"],
			"SubjectAlternativeNames": []map[string]any{{"Type": "directoryName", "Value": "CN=x"}}}})},
		{"OCSP signing", "InvalidParameter", "ExtendedKeyUsages.1", custom(sub, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"], "ExtendedKeyUsages": []string{"OCSPSigning"}}})},
		{"CA:TRUE", "InvalidParameter", "CA certificate", custom(sub, caCSR, "1d", map[string]any{"Extensions": okExt})},
		{"beyond the CA", "InvalidParameter", "beyond the issuing CA", custom(sub, csr, "20y", map[string]any{"Extensions": okExt})},
		{"unknown field", "InvalidParameter", "ApiPassthrough.Extensions.NameConstraints", custom(sub, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"], "NameConstraints": "x"}})},
		// Index 0 is not read (the SDKs number from 1): refused, never silently dropped.
		{"EKU numbered 0", "InvalidParameter", "ApiPassthrough.Extensions.ExtendedKeyUsages.0", custom(sub, csr, "1d", map[string]any{"Extensions": okExt, "Extensions.ExtendedKeyUsages.0": "serverAuth"})},
		{"SAN numbered 0", "InvalidParameter", "ApiPassthrough.Extensions.SubjectAlternativeNames.0.Type", custom(sub, csr, "1d", map[string]any{"Extensions": okExt, "Extensions.SubjectAlternativeNames.0.Type": "dNSName", "Extensions.SubjectAlternativeNames.0.Value": "x.example"})},
		// A certificate without an EKU extension is valid for every purpose.
		{"no EKU", "InvalidParameter", "valid for every purpose", custom(sub, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"]}})},
		{"CSR extension", "InvalidParameter", "extension 1.3.6.1.5.5.7.1.24", custom(sub, newCSR(t, "must-staple", pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}, Value: []byte{0x30, 0x03, 0x02, 0x01, 0x05}}), "1d", map[string]any{"Extensions": okExt})},
		{"no key usage", "MissingParameter", "KeyUsage", custom(sub, csr, "1d", nil)},
		{"bad validity", "InvalidParameter", "Validity", custom(sub, csr, "soon", map[string]any{"Extensions": okExt})},
		{"client under serverAuth CA", "InvalidParameter", "limited to the extended key usages serverAuth", custom(srvOnly, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"], "ExtendedKeyUsages": []string{"clientAuth"}}})},
		{"no EKU under serverAuth CA", "InvalidParameter", "valid for every purpose", custom(srvOnly, csr, "1d", map[string]any{"Extensions": map[string]any{"KeyUsage": okExt["KeyUsage"]}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.t = t
			se := cc.fails(tc.code, 400, "CreateCustomCertificate", tc.q)
			if msg := tea.StringValue(se.Message); !strings.Contains(msg, tc.param) {
				t.Errorf("message %q does not mention %q", msg, tc.param)
			}
		})
	}
}

func mustASN1(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The new actions are RAM actions yundun-cert:<Action> like the others.
func TestSDK_NewActionsRAM(t *testing.T) {
	e := newEnv(t, nil)
	k := e.newKey("auditor", policy(`{"Effect":"Allow","Action":["yundun-cert:ListCACertificateLog","yundun-cert:DescribePcaAndExternalCACertificateList"],"Resource":"*"}`), 100)
	c := e.sdk(k, false)
	c.ok("ListCACertificateLog", map[string]any{"Identifier": string(e.sub.Identifier)})
	c.ok("DescribePcaAndExternalCACertificateList", nil)
	for _, action := range []string{"MoveResourceGroup", "CreateCustomCertificate"} {
		se := c.fails("NoPermission", 403, action, map[string]any{"ResourceId": string(e.sub.Identifier), "ResourceGroupId": "rg", "ResourceType": "ca"})
		if !strings.Contains(tea.StringValue(se.Data), "yundun-cert:"+action) {
			t.Errorf("%s: denial does not name yundun-cert:%s: %s", action, action, tea.StringValue(se.Data))
		}
	}
}
