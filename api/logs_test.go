package api_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// TestLogs_NoSecrets logs at debug level through successes and failures and
// checks that no AccessKey secret, signature or private-key password is in
// the log, while the state changes are.
func TestLogs_NoSecrets(t *testing.T) {
	var buf syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, &api.Options{Logger: log})
	for _, v1 := range []bool{false, true} {
		c := e.sdk(e.admin, v1)
		id := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "logged", "Days": 1})["Identifier"].(string)
		c.ok("DescribeCertificatePrivateKey", map[string]any{"Identifier": id, "EncryptedCode": "pa55word-in-the-log?"})
		c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": id})
		wrong := e.sdk(key{ID: e.admin.ID, Secret: "not-the-secret"}, v1)
		wrong.call("DescribeClientCertificateStatus", map[string]any{"Identifier": id}, nil)
	}
	out := buf.String()
	for _, secret := range []string{e.admin.Secret, "pa55word-in-the-log?", "not-the-secret", "Signature="} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	for _, want := range []string{"certificate issued", "private key exported", "certificate revoked", "SignatureDoesNotMatch"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	// Each change is logged once (by the CA), with who asked.
	for _, change := range []string{`"msg":"certificate issued"`, `"msg":"certificate revoked"`} {
		if n := strings.Count(out, change); n != 2 {
			t.Errorf("%s logged %d times for two changes", change, n)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"msg":"certificate revoked"`) && (!strings.Contains(line, e.admin.ID) || !strings.Contains(line, `"request_id"`)) {
			t.Errorf("revocation logged without its actor: %s", line)
		}
	}
}
