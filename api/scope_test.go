package api_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// TestRAM_ResourceScopedPolicyFailsClosed stores (as an older certstatus
// could) a key whose only Allow names one certificate's ARN. Resource-level
// scoping is not implemented, so the statement must not be read as "every
// resource": the key is denied everything, with a warning in the log.
func TestRAM_ResourceScopedPolicyFailsClosed(t *testing.T) {
	var buf syncbuf.Buffer
	e := newEnv(t, &api.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	scoped := policy(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"acs:yundun-cert:*:*:certificate/` + newIdentifier() + `"}`)
	k := e.newKey("scoped", scoped, 100)
	for _, mode := range modes {
		c := e.sdk(k, mode.v1)
		c.fails("NoPermission", 403, "CreateRootCACertificate", map[string]any{
			"CommonName": "must not exist", "Organization": "x", "OrganizationUnit": "x", "Locality": "x", "State": "x", "CountryCode": "US", "Algorithm": "ECC_256", "Years": 1})
		c.fails("NoPermission", 403, describeStatus, map[string]any{"Identifier": newIdentifier()})
	}
	cas, err := e.store.CAs(context.Background())
	if err != nil || len(cas) != 2 {
		t.Errorf("got %d CAs (%v), want the 2 of the test env", len(cas), err)
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "resource-level scoping is not supported") || !strings.Contains(out, k.ID) {
		t.Errorf("no warning naming the key and the reason in the log:\n%s", out)
	}
}
