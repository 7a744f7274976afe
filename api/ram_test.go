package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// policy is a one-Version document around statements.
func policy(statements ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
}

const (
	describeStatus = "DescribeClientCertificateStatus"
	createClient   = "CreateClientCertificate"
)

func TestRAM_Policies(t *testing.T) {
	allowAll := `{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}`
	describeOnly := policy(`{"Effect":"Allow","Action":"yundun-cert:Describe*","Resource":"*"}`)
	denyCreate := policy(allowAll, `{"Effect":"Deny","Action":["yundun-cert:CreateClientCertificate"],"Resource":"*"}`)
	notCreate := policy(`{"Effect":"Allow","NotAction":"yundun-cert:Create*","Resource":"*"}`)
	fromIP := func(cidr string) string {
		return policy(`{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["` + cidr + `"]}}}`)
	}
	tests := []struct {
		name   string
		policy string
		action string
		deny   string // NoPermissionType; "" means allowed
	}{
		{"allow/Describe* allows the status query", describeOnly, describeStatus, ""},
		{"deny/Describe* does not allow a create", describeOnly, createClient, "ImplicitDeny"},
		{"deny/explicit Deny beats Allow", denyCreate, createClient, "ExplicitDeny"},
		{"allow/Deny of another action", denyCreate, describeStatus, ""},
		{"allow/NotAction allows what it does not list", notCreate, describeStatus, ""},
		{"deny/NotAction leaves out what it lists", notCreate, createClient, "ImplicitDeny"},
		{"allow/action names match case-insensitively", policy(`{"Effect":"Allow","Action":"YUNDUN-CERT:describeclientcertificatestatus","Resource":"*"}`), describeStatus, ""},
		{"deny/a lower-case Deny matches too", policy(allowAll, `{"Effect":"Deny","Action":"yundun-cert:createclient*","Resource":"*"}`), createClient, "ExplicitDeny"},
		{"deny/another service's actions", policy(`{"Effect":"Allow","Action":"ecs:*","Resource":"*"}`), describeStatus, "ImplicitDeny"},
		{"deny/invalid policy (no Resource) denies everything", policy(`{"Effect":"Allow","Action":"yundun-cert:*"}`), describeStatus, "ImplicitDeny"},
		{"deny/invalid policy (unknown key) denies everything", policy(`{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}`), describeStatus, "ImplicitDeny"},
		{"deny/policy that is not JSON", `Allow everything`, describeStatus, "ImplicitDeny"},
		{"deny/empty policy", ``, describeStatus, "ImplicitDeny"},
		{"allow/IpAddress 127.0.0.0/8", fromIP("127.0.0.0/8"), describeStatus, ""},
		{"deny/IpAddress 10.0.0.0/8", fromIP("10.0.0.0/8"), describeStatus, "ImplicitDeny"},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, nil)
			query := map[string]map[string]any{
				describeStatus: {"Identifier": newIdentifier()},
				createClient:   {"ParentIdentifier": string(e.sub.Identifier), "CommonName": "ram device", "Days": 30},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					// newKey stores the document as given, with store.PutAccessKey:
					// nothing validates it on the way in.
					k := e.newKey("ram-user", tt.policy, 100)
					c := e.sdk(k, mode.v1)
					if tt.deny == "" {
						c.ok(tt.action, query[tt.action])
						return
					}
					se := c.fails("NoPermission", 403, tt.action, query[tt.action])
					body := rawBody(t, se)
					checkErrorBody(t, body, "NoPermission")
					raw, _ := body["AccessDeniedDetail"].(map[string]any)
					for name, detail := range map[string]map[string]any{"SDKError.AccessDeniedDetail": se.AccessDeniedDetail, "raw AccessDeniedDetail": raw} {
						if got := detail["NoPermissionType"]; got != tt.deny {
							t.Errorf("%s.NoPermissionType: got %v, want %s", name, got, tt.deny)
						}
						if got := detail["AuthAction"]; got != "yundun-cert:"+tt.action {
							t.Errorf("%s.AuthAction: got %v, want yundun-cert:%s", name, got, tt.action)
						}
						if got := detail["AuthPrincipalOwnerId"]; got != "ram-user" {
							t.Errorf("%s.AuthPrincipalOwnerId: got %v, want ram-user", name, got)
						}
					}
				})
			}
		})
	}
}

// TestRAM_DeniedCreateChangesNothing checks that a denial comes before the
// action: nothing is issued.
func TestRAM_DeniedCreateChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	k := e.newKey("reader", policy(`{"Effect":"Allow","Action":"yundun-cert:Describe*","Resource":"*"}`), 100)
	e.sdk(k, false).fails("NoPermission", 403, createClient, map[string]any{
		"ParentIdentifier": string(e.sub.Identifier), "CommonName": "must not exist", "Days": 30})
	n, err := e.store.Count(context.Background(), certs.Filter{Kind: certs.KindClient, IncludeDeleted: true})
	if err != nil || n != 0 {
		t.Errorf("got %d certificates (%v), want 0", n, err)
	}
}
