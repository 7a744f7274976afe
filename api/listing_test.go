package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSDK_ListingCostsThePage: a page deep in a listing is refused before
// the store reads the records in front of it, and NextToken pages every
// list action newest first, each certificate once, whatever is added in
// between. (CurrentPage=2147483647&ShowSize=1000 used to read page × size
// records before answering an empty list.)
func TestSDK_ListingCostsThePage(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	sub := string(e.sub.Identifier)
	var created []string
	for i := range 7 {
		e.clock.Advance(time.Second)
		out := c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "page-" + string(rune('a'+i)), "Days": 5})
		created = append(created, out["Identifier"].(string))
	}
	for _, id := range created[:3] {
		c.ok("CreateRevokeClientCertificate", map[string]any{"Identifier": id, "Reason": "superseded"})
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)

	for _, action := range []string{"ListClientCertificate", "ListRevokeCertificate", "ListCert"} {
		for _, q := range []map[string]any{
			{"CurrentPage": 2147483647, "ShowSize": 1000},
			{"CurrentPage": 11, "ShowSize": 1000},
			{"CurrentPage": 10001, "ShowSize": 1},
		} {
			se := c.fails("InvalidParameter", 400, action, q)
			if msg := *se.Message; !strings.Contains(msg, "NextToken") {
				t.Errorf("%s %v: message %q does not say how to list further", action, q, msg)
			}
		}
		if out := c.ok(action, map[string]any{"CurrentPage": 10, "ShowSize": 1000}); num(t, out["TotalCount"]) == 0 {
			t.Errorf("%s: the last page inside the window: %v", action, out)
		}
		c.fails("InvalidParameter", 400, action, map[string]any{"NextToken": "not-a-token"})
		c.fails("InvalidParameter", 400, action, map[string]any{"NextToken": "0123456789abcdef0123456789abcdef"})
	}
	c.fails("InvalidParameter", 400, "ListTagResources", map[string]any{"RegionId": "cn-hangzhou", "ResourceType": "CERT", "NextToken": 20000})

	walk := func(action, listKey string, want []string) {
		t.Helper()
		var got []string
		token := ""
		for pages := 0; pages < 10; pages++ {
			q := map[string]any{"MaxResults": 2}
			if token != "" {
				q["NextToken"] = token
			}
			out := c.ok(action, q)
			for _, it := range listOf(t, out[listKey]) {
				got = append(got, it["Identifier"].(string))
			}
			e.clock.Advance(time.Second)
			c.ok("CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": "between", "Days": 5})
			if token, _ = out["NextToken"].(string); token == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s by NextToken: %v\nwant newest first %v", action, got, want)
		}
	}
	walk("ListClientCertificate", "CertificateList", newestFirst)
	walk("ListRevokeCertificate", "CertificateList", newestFirst[4:])

	// CurrentPage pages agree with the cursor's order.
	first := listOf(t, c.ok("ListClientCertificate", map[string]any{"CurrentPage": 1, "ShowSize": 100})["CertificateList"])
	if got := first[len(first)-1]["Identifier"]; got != created[0] {
		t.Errorf("oldest certificate last: got %v, want %s", got, created[0])
	}
}
