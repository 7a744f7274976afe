package api_test

import (
	"context"
	"testing"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ram"
)

// oldReadOnly is the read-only policy document certstatus wrote before
// issue 13; keys created then still carry it.
const oldReadOnly = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*","yundun-cert:Get*"],"Resource":"*"}]}`

// TestKeyExport_ReadOnlyRefused: a read-only key, of today or of an older
// version, reads certificates but never exports a private key.
func TestKeyExport_ReadOnlyRefused(t *testing.T) {
	e := newEnv(t, nil)
	rec := issue(t, e, "read-only target")
	for name, doc := range map[string]string{"ReadOnly": ram.ReadOnly, "old read-only": oldReadOnly} {
		k := e.newKey("reader", doc, 100)
		for _, mode := range modes {
			c := e.sdk(k, mode.v1)
			c.ok("DescribeClientCertificate", map[string]any{"Identifier": string(rec.Identifier)})
			se := c.fails("NoPermission", 403, "DescribeCertificatePrivateKey", map[string]any{"Identifier": string(rec.Identifier), "EncryptedCode": "pa55word-long"})
			if got := se.AccessDeniedDetail["NoPermissionType"]; got != "ExplicitDeny" {
				t.Errorf("%s/%s: NoPermissionType: got %v, want ExplicitDeny", name, mode.name, got)
			}
		}
	}
	var exports int
	e.store.Audit(context.Background(), 1, func(ev certs.AuditEvent) bool {
		if ev.Action == "certificate.key_export" {
			exports++
		}
		return true
	})
	if exports != 0 {
		t.Errorf("got %d export events, want none", exports)
	}
}

// TestKeyExport_Audited: every export is in the audit trail with who
// (the AccessKeyId), which certificate and the RequestId of the answer.
func TestKeyExport_Audited(t *testing.T) {
	e := newEnv(t, nil)
	rec := issue(t, e, "exported")
	type export struct{ key, requestID string }
	var want []export
	for _, mode := range modes {
		out := e.sdk(e.admin, mode.v1).ok("DescribeCertificatePrivateKey", map[string]any{"Identifier": string(rec.Identifier), "EncryptedCode": "pa55word-long"})
		if out["EncryptedData"] == "" {
			t.Fatalf("%s: no key in %v", mode.name, out)
		}
		want = append(want, export{e.admin.ID, out["RequestId"].(string)})
	}
	var got []certs.AuditEvent
	if err := e.store.Audit(context.Background(), 1, func(ev certs.AuditEvent) bool {
		if ev.Action == "certificate.key_export" {
			got = append(got, ev)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d export events, want %d", len(got), len(want))
	}
	for i, ev := range got {
		if ev.Actor != want[i].key || ev.RequestID != want[i].requestID || ev.Subject != string(rec.Identifier) {
			t.Errorf("event %d: actor %q request %q subject %q; want %q %q %s", i, ev.Actor, ev.RequestID, ev.Subject, want[i].key, want[i].requestID, rec.Identifier)
		}
	}
	if n, err := e.store.VerifyAudit(context.Background()); err != nil {
		t.Errorf("audit chain (%d events): %v", n, err)
	}
}
