package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI_AccessKeys(t *testing.T) {
	c, _, _ := newDataDir(t)
	var created accessKeyView
	c.json(&created, "accesskey", "create", "--owner", "alice", "--read-only", "--qps", "5")
	if !strings.HasPrefix(created.AccessKeyId, "LTAI") || len(created.AccessKeySecret) != 30 || created.Owner != "alice" || created.QPS != 5 || created.Policy != ReadOnlyPolicy {
		t.Fatalf("create: %+v", created)
	}
	var keys []accessKeyView
	c.json(&keys, "accesskey", "list")
	if len(keys) != 2 {
		t.Fatalf("list: %d keys, want the admin key and alice's", len(keys))
	}
	for _, k := range keys {
		if k.AccessKeySecret != "" {
			t.Errorf("list shows a secret for %s", k.AccessKeyId)
		}
	}
	if out := c.ok("accesskey", "list"); strings.Contains(out, created.AccessKeySecret) {
		t.Error("the human list shows a secret")
	}

	policy := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(policy, []byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:DescribeClientCertificateStatus","Resource":"*"}]}`), 0o600)
	var set accessKeyView
	c.json(&set, "accesskey", "set", created.AccessKeyId, "--policy", policy, "--qps", "20")
	if !strings.Contains(set.Policy, "DescribeClientCertificateStatus") || set.QPS != 20 || set.AccessKeySecret != "" {
		t.Errorf("set: %+v", set)
	}
	var dis accessKeyView
	c.json(&dis, "accesskey", "disable", created.AccessKeyId)
	if !dis.Disabled {
		t.Error("disable")
	}
	c.json(&dis, "accesskey", "enable", created.AccessKeyId)
	if dis.Disabled {
		t.Error("enable")
	}
	c.ok("accesskey", "delete", created.AccessKeyId)
	c.fails("not found", "accesskey", "show", created.AccessKeyId)

	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"Version":"2","Statement":[]}`), 0o600)
	for _, tc := range []struct {
		msg  string
		args []string
	}{
		{"--owner", []string{"accesskey", "create", "--allow-all"}},
		{"a policy is required", []string{"accesskey", "create", "--owner", "x"}},
		{"give one of", []string{"accesskey", "create", "--owner", "x", "--allow-all", "--read-only"}},
		{"Version", []string{"accesskey", "create", "--owner", "x", "--policy", bad}},
		{"no such file", []string{"accesskey", "create", "--owner", "x", "--policy", "/nonexistent.json"}},
		{"needs", []string{"accesskey", "set", "LTAIx"}},
		{"unknown accesskey subcommand", []string{"accesskey", "rotate"}},
	} {
		c.fails(tc.msg, tc.args...)
	}
	c.json(&keys, "accesskey", "list")
	if len(keys) != 1 {
		t.Errorf("failed commands changed the keys: %d", len(keys))
	}
}
