package main

import "testing"

// TestCLI_CustomIDRefused: cert issue --custom-id refuses what could shadow
// an identifier or break a path, naming the custom identifier.
func TestCLI_CustomIDRefused(t *testing.T) {
	c, _, _ := newDataDir(t)
	dir := t.TempDir()
	for _, bad := range []string{"0123456789abcdef0123456789abcdef", "fleet/1", "dev\x00ice"} {
		c.fails("custom identifier", "cert", "issue", "--kind", "client", "--cn", "x", "--days", "1", "--custom-id", bad, "--out-dir", dir)
	}
	c.ok("cert", "issue", "--kind", "client", "--cn", "x", "--days", "1", "--custom-id", "fleet-1", "--out-dir", dir)
}
