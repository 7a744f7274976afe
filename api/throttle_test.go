package api_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/internal/ram"
)

// fixedClock is a server clock that moves only when told, so that a burst
// of requests is a burst whatever the machine's speed.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newThrottleEnv is newEnv served by an api.Server on a fixedClock (the
// clients sign with the real time, well within the window).
func newThrottleEnv(t *testing.T) (*env, *fixedClock) {
	e := newEnv(t, nil)
	fc := &fixedClock{t: time.Now()}
	e.serve(&api.Options{Now: fc.Now}, e.auth)
	return e, fc
}

// timeLeft reads TimeLeft (milliseconds) from an x-ratelimit-* header.
func timeLeft(t *testing.T, h string) int64 {
	t.Helper()
	for _, kv := range strings.Split(h, ",") {
		if v, ok := strings.CutPrefix(kv, "TimeLeft:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("TimeLeft in %q: %v", h, err)
			}
			return n
		}
	}
	t.Fatalf("no TimeLeft in %q", h)
	return 0
}

func TestThrottle_BurstPerAction(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e, fc := newThrottleEnv(t)
			k := e.newKey("alice", ram.AllowAll, 3)
			c := e.sdk(k, mode.v1)
			status := map[string]any{"Identifier": newIdentifier()}

			for range 3 {
				c.ok(describeStatus, status)
			}
			se := c.fails("Throttling.User", 400, describeStatus, status)
			checkErrorBody(t, rawBody(t, se), "Throttling.User")
			if m := tea.StringValue(se.Message); !strings.Contains(m, "Request was denied due to user flow control.") {
				t.Errorf("Message: got %q, want Alibaba's sentence", m)
			}

			t.Run("header/x-ratelimit-user-api", func(t *testing.T) {
				v := signV1("GET", k, v1Params(k, describeStatus, map[string]string{"Identifier": newIdentifier()}))
				r := e.do(e.request(http.MethodGet, v, ""))
				r.check(t, 400, "Throttling.User", "flow control")
				h := r.header.Get("x-ratelimit-user-api")
				if !strings.Contains(h, "Limit:3") || !strings.Contains(h, "Remain:0") {
					t.Errorf("x-ratelimit-user-api: got %q, want Limit:3 and Remain:0", h)
				}
				if n := timeLeft(t, h); n <= 0 || n > 1000 {
					t.Errorf("TimeLeft: got %d ms, want 1..1000", n)
				}
			})

			t.Run("sdk/DisableSDKError gives a ThrottlingError", func(t *testing.T) {
				raw := e.sdk(k, mode.v1)
				raw.c.DisableSDKError = dara.Bool(true) // a Client field, not in Config
				_, err := raw.call(describeStatus, status, nil)
				var te *openapi.ThrottlingError
				if !errors.As(err, &te) {
					t.Fatalf("got %T %v, want *client.ThrottlingError", err, err)
				}
				if dara.StringValue(te.Code) != "Throttling.User" || dara.IntValue(te.StatusCode) != 400 {
					t.Errorf("got %s/%d, want Throttling.User/400", dara.StringValue(te.Code), dara.IntValue(te.StatusCode))
				}
				if n := dara.Int64Value(te.RetryAfter); n <= 0 {
					t.Errorf("RetryAfter: got %v, want > 0", n)
				}
			})

			t.Run("ok/another action of the same user", func(t *testing.T) {
				c.ok("DescribeClientCertificateStatusForSerialNumber", map[string]any{"SerialNumber": "01ab"})
			})

			t.Run("ok/a second later", func(t *testing.T) {
				fc.Advance(time.Second)
				for range 3 {
					c.ok(describeStatus, status)
				}
				c.fails("Throttling.User", 400, describeStatus, status)
			})
		})
	}
}

func TestThrottle_PerUser(t *testing.T) {
	e, _ := newThrottleEnv(t)
	bob1, bob2 := e.newKey("bob", ram.AllowAll, 3), e.newKey("bob", ram.AllowAll, 3)
	carol := e.newKey("carol", ram.AllowAll, 3)
	anon1, anon2 := e.newKey("", ram.AllowAll, 3), e.newKey("", ram.AllowAll, 3)
	status := map[string]any{"Identifier": newIdentifier()}

	steps := []struct {
		name string
		k    key
		ok   bool
	}{
		{"bob's first key", bob1, true},
		{"bob's first key", bob1, true},
		{"bob's second key", bob2, true},
		{"bob's second key, limit shared with the first", bob2, false},
		{"bob's first key, limit shared with the second", bob1, false},
		{"carol, another owner", carol, true},
		{"carol, another owner", carol, true},
		{"carol, another owner", carol, true},
		{"carol, her own limit", carol, false},
		{"an ownerless key", anon1, true},
		{"an ownerless key", anon1, true},
		{"an ownerless key", anon1, true},
		{"another ownerless key, limited per key", anon2, true},
	}
	for i, s := range steps {
		c := e.sdk(s.k, false)
		if s.ok {
			if _, err := c.call(describeStatus, status, nil); err != nil {
				t.Fatalf("step %d (%s): got %v, want success", i, s.name, err)
			}
			continue
		}
		_, err := c.call(describeStatus, status, nil)
		if se := sdkErr(t, err); tea.StringValue(se.Code) != "Throttling.User" {
			t.Fatalf("step %d (%s): got %s, want Throttling.User", i, s.name, tea.StringValue(se.Code))
		}
	}
}
