package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/ram"
)

// TestCLI_ReadOnlyKeyNoSecrets: --read-only writes a policy that denies the
// private-key export, and a key stored with the older read-only document is
// shown as (and evaluated as) today's.
func TestCLI_ReadOnlyKeyNoSecrets(t *testing.T) {
	c, _, _ := newDataDir(t)
	var created accessKeyView
	c.json(&created, "accesskey", "create", "--owner", "reader", "--read-only")
	p, err := ram.Parse(created.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Evaluate(ram.Request{Action: "yundun-cert:DescribeCertificatePrivateKey"}); d.Allowed || !d.ExplicitDeny {
		t.Errorf("--read-only policy on the key export: got %+v, want an explicit deny", d)
	}

	old := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*","yundun-cert:Get*"],"Resource":"*"}]}`
	store, err := db.Open(c.env["CERTSTATUS_DATA"], nil)
	if err != nil {
		t.Fatal(err)
	}
	err = store.PutAccessKey(context.Background(), certs.AccessKey{ID: "LTAIoldreadonlykey0000", SealedSecret: []byte("x"), Owner: "old", Policy: old, CreatedAt: time.Now()})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	var shown accessKeyView
	c.json(&shown, "accesskey", "show", "LTAIoldreadonlykey0000")
	if shown.Policy != ram.ReadOnly {
		t.Errorf("old read-only key shows policy %s, want %s", shown.Policy, ram.ReadOnly)
	}
}

// TestCLI_AccessKeyResourceScopedPolicyRefused: a policy naming one
// certificate's ARN is refused by create and set, saying why.
func TestCLI_AccessKeyResourceScopedPolicyRefused(t *testing.T) {
	c, _, _ := newDataDir(t)
	scoped := filepath.Join(t.TempDir(), "scoped.json")
	os.WriteFile(scoped, []byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"acs:yundun-cert:*:*:certificate/0123456789abcdef0123456789abcdef"}]}`), 0o600)
	c.fails("resource-level scoping is not supported", "accesskey", "create", "--owner", "x", "--policy", scoped)
	var k accessKeyView
	c.json(&k, "accesskey", "create", "--owner", "y", "--read-only")
	c.fails("resource-level scoping is not supported", "accesskey", "set", k.AccessKeyId, "--policy", scoped)
	var keys []accessKeyView
	c.json(&keys, "accesskey", "list")
	if len(keys) != 2 {
		t.Errorf("got %d keys, want the admin key and y's", len(keys))
	}
	c.json(&k, "accesskey", "show", k.AccessKeyId)
	if k.Policy != ram.ReadOnly {
		t.Errorf("set changed the policy to %s", k.Policy)
	}
}
