package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// list reads an array-of-objects field.
func listOf(t *testing.T, v any) []map[string]any {
	t.Helper()
	raw, ok := v.([]any)
	if !ok {
		t.Fatalf("%v (%T) is not a list", v, v)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func TestSDK_IssueVariants(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	sub := string(e.sub.Identifier)

	server := c.ok("CreateServerCertificate", map[string]any{
		"ParentIdentifier": sub, "CommonName": "api.example.com", "Domain": "api.example.com,www.example.com,10.1.2.3",
		"Algorithm": "RSA_2048", "Years": 1, "Immediately": 1, "Organization": "Example", "Country": "US",
	})
	b, _ := pem.Decode([]byte(server["X509Certificate"].(string)))
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil || len(cert.DNSNames) != 2 || len(cert.IPAddresses) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("server certificate: %v %v", cert, err)
	}
	if _, ok := server["CertificateChain"]; ok {
		t.Error("Immediately=1 returned a chain")
	}

	// Immediately=0 (the default) returns no certificate.
	quiet := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "quiet", "Days": 1, "EnableCrl": 0})
	if _, ok := quiet["X509Certificate"]; ok || quiet["Identifier"] == "" {
		t.Errorf("Immediately=0: %v", quiet)
	}

	// From a CSR in the query string, with SANs of type 2 (DNS).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr-client"}}, key)
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	fromCSR := c.ok("CreateClientCertificateWithCsr", map[string]any{
		"ParentIdentifier": sub, "Csr": csr, "Days": 10, "SanType": 2, "SanValue": "a.example.com,b.example.com", "Immediately": 1,
	})
	b, _ = pem.Decode([]byte(fromCSR["X509Certificate"].(string)))
	cert, _ = x509.ParseCertificate(b.Bytes)
	if !key.PublicKey.Equal(cert.PublicKey) || len(cert.DNSNames) != 2 || cert.Subject.CommonName != "csr-client" {
		t.Errorf("certificate from CSR: %v", cert)
	}
	srvCSR := c.ok("CreateServerCertificateWithCsr", map[string]any{"ParentIdentifier": sub, "Csr": csr, "Domain": "csr.example.com", "Days": 10})
	if srvCSR["Identifier"] == "" {
		t.Errorf("server from CSR: %v", srvCSR)
	}

	for _, tc := range []struct {
		name, action, code string
		q                  map[string]any
	}{
		{"error/bad CSR", "CreateClientCertificateWithCsr", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "Csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", "Days": 1}},
		{"error/no validity", "CreateClientCertificate", "MissingParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x"}},
		{"error/days and years", "CreateClientCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "Days": 1, "Years": 1}},
		{"error/only BeforeTime", "CreateClientCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "BeforeTime": 1700000000}},
		{"error/RSA_1024", "CreateClientCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "Days": 1, "Algorithm": "RSA_1024"}},
		{"error/SanType 3", "CreateClientCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "Days": 1, "SanType": 3, "SanValue": "x"}},
		{"error/SanValue not an email", "CreateClientCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "Days": 1, "SanType": 1, "SanValue": "not-mail"}},
		{"error/beyond the CA", "CreateClientCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "Years": 10}},
		{"error/root as parent", "CreateClientCertificate", "InvalidStatus.CA", map[string]any{"ParentIdentifier": string(e.root.Identifier), "CommonName": "x", "Days": 1}},
		{"error/unknown parent", "CreateClientCertificate", "NotFound.CA", map[string]any{"ParentIdentifier": "0123456789abcdef0123456789abcdef", "CommonName": "x", "Days": 1}},
		{"error/server without CommonName", "CreateServerCertificate", "MissingParameter", map[string]any{"ParentIdentifier": sub, "Domain": "a.example.com", "Days": 1}},
		{"error/server Domain e-mail", "CreateServerCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "CommonName": "a", "Domain": "a@b.c", "Days": 1}},
		{"error/sub EKU any", "CreateSubCACertificate", "InvalidParameter", map[string]any{"ParentIdentifier": string(e.root.Identifier), "CommonName": "S", "Organization": "O", "OrganizationUnit": "U", "Locality": "L", "State": "S", "CountryCode": "CN", "Years": 1, "Algorithm": "ECC_256", "ExtendedKeyUsages": []string{"anyExtendedKeyUsage"}}},
		{"error/custom serial", "CreateCustomCertificate", "InvalidParameter", map[string]any{"ParentIdentifier": sub, "Csr": csr, "Validity": "10d", "ApiPassthrough": map[string]any{"SerialNumber": "16889526086333"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := e.sdk(e.admin, false)
			cc.t = t
			cc.fails(tc.code, map[string]int{"InvalidParameter": 400, "MissingParameter": 400, "InvalidStatus.CA": 400, "NotFound.CA": 404}[tc.code], tc.action, tc.q)
		})
	}
}

func TestSDK_DescribeAndList(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, true)
	sub := string(e.sub.Identifier)
	var ids []string
	for i := 0; i < 5; i++ {
		out := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "c" + string(rune('a'+i)), "Days": 5, "CustomIdentifier": "cust-" + string(rune('a'+i))})
		ids = append(ids, out["Identifier"].(string))
	}
	c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": ids[0], "Reason": "keyCompromise"})

	d := c.ok("DescribeClientCertificate", map[string]any{"Identifier": ids[1]})["Certificate"].(map[string]any)
	if d["Identifier"] != ids[1] || d["CertificateType"] != "CLIENT" || d["Status"] != "ISSUE" || d["ParentIdentifier"] != sub ||
		d["Algorithm"] != "ECC" || num(t, d["KeySize"]) != 256 || num(t, d["AfterDate"]) <= num(t, d["BeforeDate"]) ||
		len(d["Sha2"].(string)) != 64 || d["CustomIdentifier"] != "cust-b" || strings.Count(d["CertChain"].(string), "BEGIN") != 2 {
		t.Errorf("DescribeClientCertificate: %v", d)
	}

	forSerial := listOf(t, c.ok("DescribeClientCertificateForSerialNumber", map[string]any{"SerialNumber": d["SerialNumber"]})["CertificateList"])
	if len(forSerial) != 1 || forSerial[0]["Identifier"] != ids[1] || !strings.HasSuffix(forSerial[0]["AfterDate"].(string), "Z") {
		t.Errorf("ForSerialNumber: %v", forSerial)
	}

	page := c.ok("ListClientCertificate", map[string]any{"CurrentPage": 2, "ShowSize": 2})
	if num(t, page["TotalCount"]) != 5 || num(t, page["PageCount"]) != 3 || len(listOf(t, page["CertificateList"])) != 2 {
		t.Errorf("ListClientCertificate page 2: %v", page)
	}
	seen := map[string]bool{}
	token := ""
	for range 5 {
		q := map[string]any{"MaxResults": 2}
		if token != "" {
			q["NextToken"] = token
		}
		out := c.ok("ListCert", q)
		for _, it := range listOf(t, out["List"]) {
			seen[it["Identifier"].(string)] = true
		}
		token, _ = out["NextToken"].(string)
		if token == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Errorf("ListCert paging saw %d of 5", len(seen))
	}
	if rev := c.ok("ListCert", map[string]any{"Status": "REVOKE"}); num(t, rev["TotalCount"]) != 1 {
		t.Errorf("ListCert Status=REVOKE: %v", rev)
	}
	revoked := listOf(t, c.ok("ListRevokeCertificate", nil)["CertificateList"])
	if len(revoked) != 1 || revoked[0]["Identifier"] != ids[0] || revoked[0]["RevokeDate"] == "" {
		t.Errorf("ListRevokeCertificate: %v", revoked)
	}

	caDesc := c.ok("DescribeCACertificate", map[string]any{"Identifier": sub})["Certificate"].(map[string]any)
	if caDesc["CertificateType"] != "SUB_ROOT" || num(t, caDesc["CertIssuedCount"]) != 5 || !strings.HasSuffix(caDesc["CrlUrl"].(string), "/crl/"+sub+".crl") {
		t.Errorf("DescribeCACertificate: %v", caDesc)
	}
	if n := num(t, c.ok("DescribeCACertificateCount", nil)["TotalCount"]); n != 2 {
		t.Errorf("DescribeCACertificateCount %d", n)
	}
	roots := listOf(t, c.ok("DescribeCACertificateList", map[string]any{"CertType": "root"})["CertificateList"])
	if len(roots) != 1 || roots[0]["Identifier"] != string(e.root.Identifier) {
		t.Errorf("DescribeCACertificateList root: %v", roots)
	}
	pca := c.ok("ListPcaCaCertificate", map[string]any{"MaxResults": 1})
	if len(listOf(t, pca["List"])) != 1 || pca["NextToken"] == nil {
		t.Errorf("ListPcaCaCertificate: %v", pca)
	}
	inst := listOf(t, c.ok("GetCAInstanceStatus", map[string]any{"Identifier": sub})["InstanceStatusList"])
	if inst[0]["Status"] != "USED" || num(t, inst[0]["CertIssuedCount"]) != 5 {
		t.Errorf("GetCAInstanceStatus: %v", inst)
	}
	crl1 := c.ok("GetCaInstanceCrlAddress", map[string]any{"CaIdentifier": sub})
	c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": ids[2]})
	crl2 := c.ok("GetCaInstanceCrlAddress", map[string]any{"CaIdentifier": sub})
	if crl1["CrlUrl"] != crl2["CrlUrl"] || crl1["HashCode"] == crl2["HashCode"] {
		t.Errorf("CRL HashCode did not change with a revocation: %v %v", crl1, crl2)
	}

	// Disable, enable and revoke a CA through UpdateCACertificateStatus.
	c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": sub, "Status": "FORBIDDEN"})
	c.fails("InvalidStatus.CA", 400, "CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "x", "Days": 1})
	if l := listOf(t, c.ok("DescribeCACertificateList", map[string]any{"CaStatus": "forbidden"})["CertificateList"]); len(l) != 1 {
		t.Errorf("forbidden CAs: %v", l)
	}
	c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": sub, "Status": "ISSUE"})
	c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "again", "Days": 1})
	c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": sub, "Status": "REVOKE", "Reason": "cACompromise"})
	c.fails("InvalidStatus.AlreadyRevoked", 400, "UpdateCACertificateStatus", map[string]any{"Identifier": sub, "Status": "REVOKE"})
	c.fails("InvalidParameter", 400, "UpdateCACertificateStatus", map[string]any{"Identifier": sub, "Status": "PAUSE"})
}

func TestSDK_PrivateKeyExport(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required for interop tests (.ci/run installs it)")
	}
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	out := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "keyed", "Days": 1, "Immediately": 1, "Algorithm": "RSA_2048"})
	id := out["Identifier"].(string)
	enc := c.ok("DescribeCertificatePrivateKey", map[string]any{"Identifier": id, "EncryptedCode": "correct horse"})["EncryptedData"].(string)
	if !strings.HasPrefix(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----") {
		t.Fatalf("EncryptedData: %q", enc)
	}
	dir := t.TempDir()
	keyFile, certFile := filepath.Join(dir, "k.pem"), filepath.Join(dir, "c.pem")
	os.WriteFile(keyFile, []byte(enc), 0o600)
	os.WriteFile(certFile, []byte(out["X509Certificate"].(string)), 0o600)
	pub1, err1 := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "pass:correct horse", "-pubout").Output()
	pub2, err2 := exec.Command(openssl, "x509", "-in", certFile, "-noout", "-pubkey").Output()
	if err1 != nil || err2 != nil || string(pub1) != string(pub2) {
		t.Fatalf("openssl: decrypted key does not match the certificate: %v %v", err1, err2)
	}
	if err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "pass:wrong password", "-noout").Run(); err == nil {
		t.Error("openssl decrypted with a wrong password")
	}
	c.fails("InvalidParameter", 400, "DescribeCertificatePrivateKey", map[string]any{"Identifier": id, "EncryptedCode": "short"})
	c.fails("MissingParameter", 400, "DescribeCertificatePrivateKey", map[string]any{"Identifier": id})

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "own-key"}}, key)
	csr := c.ok("CreateClientCertificateWithCsr", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "Days": 1,
		"Csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))})
	c.fails("InvalidStatus.NoPrivateKey", 400, "DescribeCertificatePrivateKey", map[string]any{"Identifier": csr["Identifier"], "EncryptedCode": "correct horse"})
}

func TestSDK_Tags(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	id := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "tagged", "Days": 1})["Identifier"].(string)
	sub := string(e.sub.Identifier)
	c.ok("TagResources", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERTIFICATE", "ResourceId": []string{id, sub},
		"Tag": []map[string]any{{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "pki"}}})
	rec, _ := e.store.Get(t.Context(), certIdentifier(id))
	if len(rec.Tags) != 2 {
		t.Fatalf("stored tags %v", rec.Tags)
	}
	list := c.ok("ListTagResources", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERTIFICATE", "Tag": []map[string]any{{"Key": "env", "Value": "prod"}}})
	b, _ := json.Marshal(list["Data"])
	if strings.Count(string(b), `"TagKey"`) != 4 {
		t.Errorf("ListTagResources: %s", b)
	}
	c.ok("UntagResources", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERTIFICATE", "ResourceId": []string{id}, "TagKey": []string{"env"}})
	rec, _ = e.store.Get(t.Context(), certIdentifier(id))
	if len(rec.Tags) != 1 || rec.Tags[0].Key != "team" {
		t.Errorf("after untag: %v", rec.Tags)
	}
	c.ok("UntagResources", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERTIFICATE", "ResourceId": []string{sub}, "All": true})
	ca, _ := e.store.CA(t.Context(), e.sub.Identifier)
	if len(ca.Tags) != 0 {
		t.Errorf("CA tags after All: %v", ca.Tags)
	}
	c.fails("NotFound.Resource", 404, "TagResources", map[string]any{"RegionId": "r", "ResourceType": "CERTIFICATE", "ResourceId": []string{"0123456789abcdef0123456789abcdef"}, "Tag": []map[string]any{{"Key": "k", "Value": "v"}}})
	c.fails("MissingParameter", 400, "TagResources", map[string]any{"ResourceType": "CERTIFICATE", "ResourceId": []string{id}})
}
