package api_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// TestSDK_AlibabaValueFormats pins the values programs written against
// Alibaba compare as strings or do arithmetic on, in the forms of the
// models' examples and alibaba-api.md.
func TestSDK_AlibabaValueFormats(t *testing.T) {
	f := newFixture(t)
	c := f.c
	full := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": f.sub, "CommonName": "alice", "Days": 30,
		"Organization": "Example, Inc.", "OrganizationUnit": "PKI", "Locality": "Hangzhou", "State": "Zhejiang", "Country": "CN"})
	id := full["Identifier"].(string)

	t.Run("certificate", func(t *testing.T) {
		d := c.ok("DescribeClientCertificate", map[string]any{"Identifier": id})["Certificate"].(map[string]any)
		if want := `C=CN,O=Example\, Inc.,OU=PKI,L=Hangzhou,ST=Zhejiang,CN=alice`; d["SubjectDN"] != want {
			t.Errorf("SubjectDN %q, want %q", d["SubjectDN"], want)
		}
		if d["SignAlgorithm"] != "SHA256WITHECDSA" {
			t.Errorf("SignAlgorithm %q, want SHA256WITHECDSA", d["SignAlgorithm"])
		}
		b, _ := pem.Decode([]byte(d["X509Certificate"].(string)))
		m, s := md5.Sum(b.Bytes), sha256.Sum256(b.Bytes)
		if d["Md5"] != hex.EncodeToString(m[:]) || d["Sha2"] != hex.EncodeToString(s[:]) {
			t.Errorf("Md5 %q, Sha2 %q: want lowercase hex of the DER", d["Md5"], d["Sha2"])
		}
		if num(t, d["UploadFlag"]) != 0 || d["Sans"] != "[]" || len(d["Tags"].([]any)) != 0 || d["AliasName"] != "" {
			t.Errorf("empty values: UploadFlag %v, Sans %v, Tags %v, AliasName %v", d["UploadFlag"], d["Sans"], d["Tags"], d["AliasName"])
		}
		// Id: a positive number exact in a JSON double, the same in every
		// action that carries it.
		idn := num(t, d["Id"])
		if idn <= 0 || idn >= 1<<53 {
			t.Errorf("Id %d", idn)
		}
		listed := listOf(t, c.ok("ListClientCertificate", map[string]any{"Identifier": id})["CertificateList"])[0]
		certs := listOf(t, c.ok("ListCert", map[string]any{})["List"])
		if num(t, listed["Id"]) != idn || num(t, certs[0]["Id"]) != idn || certs[0]["Identifier"] != id {
			t.Errorf("Id %d; ListClientCertificate %v, ListCert %v (%v)", idn, listed["Id"], certs[0]["Id"], certs[0]["Identifier"])
		}
	})

	t.Run("ListCert", func(t *testing.T) {
		dateTime := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)
		for _, it := range listOf(t, c.ok("ListCert", map[string]any{})["List"]) {
			if it["CertificateType"] != "Client" || !dateTime.MatchString(it["BeforeDate"].(string)) ||
				!dateTime.MatchString(it["AfterDate"].(string)) || it["Extra"] != "{}" ||
				(it["Status"] != "ISSUE" && it["Status"] != "REVOKE") {
				t.Errorf("ListCert item %v", it)
			}
		}
	})

	t.Run("CA", func(t *testing.T) {
		rsa := c.ok("CreateRootCACertificate", map[string]any{"CommonName": "RSA Root", "Organization": "Example",
			"OrganizationUnit": "PKI", "Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN", "Years": 5, "Algorithm": "RSA_2048"})
		r := c.ok("DescribeCACertificate", map[string]any{"Identifier": rsa["Identifier"]})["Certificate"].(map[string]any)
		if r["SignAlgorithm"] != "SHA256WITHRSA" || r["SubjectDN"] != "C=CN,O=Example,OU=PKI,L=Hangzhou,ST=Zhejiang,CN=RSA Root" {
			t.Errorf("RSA root: SignAlgorithm %q, SubjectDN %q", r["SignAlgorithm"], r["SubjectDN"])
		}
		d := c.ok("DescribeCACertificate", map[string]any{"Identifier": f.sub})["Certificate"].(map[string]any)
		issued, total, remaining := num(t, d["CertIssuedCount"]), num(t, d["CertTotalCount"]), num(t, d["CertRemainingCount"])
		if issued < 3 || total < issued || remaining != total-issued || total != 2147483647 {
			t.Errorf("quota: issued %d, total %d, remaining %d", issued, total, remaining)
		}
		if d["CrlStatus"] != "ACTIVE" || num(t, d["CrlDay"]) != 1 || d["Sans"] != "" || num(t, d["KeyIndex"]) != 0 || d["ClusterId"] != "" {
			t.Errorf("CrlStatus %v, CrlDay %v, Sans %v, KeyIndex %v, ClusterId %v", d["CrlStatus"], d["CrlDay"], d["Sans"], d["KeyIndex"], d["ClusterId"])
		}
		if days := num(t, d["CertMaxTime"]); days < 700 || days > 731 { // a 2-year sub CA
			t.Errorf("CertMaxTime %d days", days)
		}
		st := listOf(t, c.ok("GetCAInstanceStatus", map[string]any{"Identifier": f.sub})["InstanceStatusList"])[0]
		if num(t, st["CertIssuedCount"]) != issued || num(t, st["CertTotalCount"]) != total {
			t.Errorf("GetCAInstanceStatus: %v", st)
		}
		crl, err := f.e.store.CRL(context.Background(), f.e.sub.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		addr := c.ok("GetCaInstanceCrlAddress", map[string]any{"CaIdentifier": f.sub})
		if addr["CaInstanceStatus"] != "normal" || addr["NextUpdateTime"] != strconv.FormatInt(crl.NextUpdate.UnixMilli(), 10) {
			t.Errorf("GetCaInstanceCrlAddress: %v (CRL nextUpdate %v)", addr, crl.NextUpdate)
		}
		c.ok("UpdateCACertificateStatus", map[string]any{"Identifier": rsa["Identifier"], "Status": "FORBIDDEN"})
		if s := c.ok("GetCaInstanceCrlAddress", map[string]any{"CaIdentifier": rsa["Identifier"]})["CaInstanceStatus"]; s != "forbidden" {
			t.Errorf("disabled CA: CaInstanceStatus %v", s)
		}
	})

	t.Run("CA listings newest first", func(t *testing.T) {
		newest := c.ok("CreateSubCACertificate", subCAQuery(f))["Identifier"]
		list := listOf(t, c.ok("DescribeCACertificateList", map[string]any{})["CertificateList"])
		if len(list) != 4 || list[0]["Identifier"] != newest || list[3]["Identifier"] != f.root {
			t.Errorf("DescribeCACertificateList order: %v", ids(list, "Identifier"))
		}
		var paged []map[string]any
		tok := ""
		for range 5 {
			q := map[string]any{"MaxResults": 1}
			if tok != "" {
				q["NextToken"] = tok
			}
			out := c.ok("ListPcaCaCertificate", q)
			paged = append(paged, listOf(t, out["List"])...)
			if tok, _ = out["NextToken"].(string); tok == "" {
				break
			}
		}
		if got, want := ids(paged, "CertIdentifier"), ids(list, "Identifier"); !slices.Equal(got, want) {
			t.Errorf("ListPcaCaCertificate pages %v, want %v", got, want)
		}
		// One hierarchy, one account: the same numeric UserId for the
		// root and the CAs under it, whoever asks.
		user := paged[0]["UserId"].(string)
		if _, err := strconv.ParseUint(user, 10, 64); err != nil {
			t.Errorf("UserId %q is not a number", user)
		}
		for _, it := range paged {
			if it["PrivateCaRegionId"] != "cn-hangzhou" {
				t.Errorf("PrivateCaRegionId %v", it["PrivateCaRegionId"])
			}
			if it["CertIdentifier"] != list[1]["Identifier"] && it["UserId"] != user { // list[1] is the RSA root
				t.Errorf("UserId %v of %v, want %s", it["UserId"], it["CertIdentifier"], user)
			}
		}
	})
}

func ids(list []map[string]any, field string) []string {
	var out []string
	for _, it := range list {
		out = append(out, it[field].(string))
	}
	return out
}
