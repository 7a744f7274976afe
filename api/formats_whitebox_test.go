package api

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

func TestSubjectDN(t *testing.T) {
	for name, tc := range map[string]struct {
		in   pkix.Name
		want string
	}{
		"all, Alibaba's order": {pkix.Name{CommonName: "Aliyun", Country: []string{"CN"}, Organization: []string{"aliyun"},
			OrganizationalUnit: []string{"Security"}, Locality: []string{"Hangzhou"}, Province: []string{"Zhejiang"}},
			"C=CN,O=aliyun,OU=Security,L=Hangzhou,ST=Zhejiang,CN=Aliyun"},
		"common name only":  {pkix.Name{CommonName: "alice"}, "CN=alice"},
		"several OUs":       {pkix.Name{CommonName: "a", OrganizationalUnit: []string{"x", "y"}}, "OU=x,OU=y,CN=a"},
		"escaped":           {pkix.Name{CommonName: ` #a+b;c<d>e"f\g `}, `CN=\ #a\+b\;c\<d\>e\"f\\g\ `},
		"leading #":         {pkix.Name{CommonName: "#a"}, `CN=\#a`},
		"inner # and space": {pkix.Name{CommonName: "a #b"}, "CN=a #b"},
		"non-ASCII":         {pkix.Name{Organization: []string{"阿里云计算有限公司"}}, "O=阿里云计算有限公司"},
	} {
		if got := subjectDN(tc.in); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

func TestSignAlgorithm(t *testing.T) {
	for in, want := range map[x509.SignatureAlgorithm]string{
		x509.SHA256WithRSA: "SHA256WITHRSA", x509.ECDSAWithSHA256: "SHA256WITHECDSA", x509.ECDSAWithSHA384: "SHA384WITHECDSA",
		x509.SHA256WithRSAPSS: "SHA256WITHRSAANDMGF1", x509.PureEd25519: "ED25519",
	} {
		if got := signAlgorithm(in); got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
	}
}

func TestNumericID(t *testing.T) {
	id := certs.Identifier("ffffffffffffff00112233445566778899")
	if got := numericID(id[:32]); got != 1<<53-1 {
		t.Errorf("all ones: %d, want 2^53-1", got)
	}
	if got := numericID("0000000000000800aaaaaaaaaaaaaaaa"); got != 1 {
		t.Errorf("bit 53: %d, want 1", got)
	}
	if got := numericID("not hex"); got != 0 {
		t.Errorf("malformed: %d", got)
	}
}
