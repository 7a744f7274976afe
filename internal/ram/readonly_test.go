package ram_test

import (
	"testing"

	"github.com/certstatus/certstatus/internal/ram"
)

// TestReadOnly_NoSecrets checks that the read-only document allows the
// reads and explicitly denies the private-key export, whatever its spelling.
func TestReadOnly_NoSecrets(t *testing.T) {
	p := mustParse(t, ram.ReadOnly)
	for _, a := range []string{"DescribeClientCertificateStatus", "DescribeCACertificate", "ListCert", "ListRevokeCertificate", "GetCAInstanceStatus", "GetCaInstanceCrlAddress"} {
		if d := p.Evaluate(ram.Request{Action: "yundun-cert:" + a}); !d.Allowed {
			t.Errorf("%s: got %+v, want allowed", a, d)
		}
	}
	for _, a := range []string{"DescribeCertificatePrivateKey", "describecertificateprivatekey", "DESCRIBECERTIFICATEPRIVATEKEY"} {
		if d := p.Evaluate(ram.Request{Action: "yundun-cert:" + a}); d.Allowed || !d.ExplicitDeny {
			t.Errorf("%s: got %+v, want an explicit deny", a, d)
		}
	}
	for _, a := range []string{"CreateClientCertificate", "CreateRevokeClientCertificate", "DeleteClientCertificate", "UpdateCACertificateStatus", "TagResources"} {
		if d := p.Evaluate(ram.Request{Action: "yundun-cert:" + a}); d.Allowed {
			t.Errorf("%s: got %+v, want denied", a, d)
		}
	}
}

// TestBuiltinPolicies_OnlyAllowAllExportsKeys: of the policies certstatus
// writes itself, only the administrator's grants the private-key export.
func TestBuiltinPolicies_OnlyAllowAllExportsKeys(t *testing.T) {
	export := ram.Request{Action: "yundun-cert:DescribeCertificatePrivateKey"}
	for name, tc := range map[string]struct {
		doc  string
		want bool
	}{
		"AllowAll": {ram.AllowAll, true},
		"ReadOnly": {ram.ReadOnly, false},
	} {
		if got := mustParse(t, tc.doc).Evaluate(export).Allowed; got != tc.want {
			t.Errorf("%s: export allowed %v, want %v", name, got, tc.want)
		}
	}
}

// TestCurrent_OldReadOnly: the read-only document of older versions, stored
// in existing keys, is evaluated as today's.
func TestCurrent_OldReadOnly(t *testing.T) {
	old := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*","yundun-cert:Get*"],"Resource":"*"}]}`
	if got := ram.Current(old); got != ram.ReadOnly {
		t.Errorf("Current(old read-only) = %s, want ReadOnly", got)
	}
	if d := mustParse(t, ram.Current(old)).Evaluate(ram.Request{Action: "yundun-cert:DescribeCertificatePrivateKey"}); d.Allowed {
		t.Errorf("old read-only document exports keys: %+v", d)
	}
	for _, doc := range []string{ram.AllowAll, ram.ReadOnly, old + " ", `{"Version":"1","Statement":[]}`} {
		if got := ram.Current(doc); got != doc {
			t.Errorf("Current(%s) = %s, want it unchanged", doc, got)
		}
	}
}
