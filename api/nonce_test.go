package api_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/ram"
)

// signedGET is a V1-signed GET of action by k, sent as is every time.
func (e *env) signedGET(k key, action string, extra map[string]string) url.Values {
	return signV1("GET", k, v1Params(k, action, extra))
}

func (e *env) get(v url.Values) rawResp {
	e.t.Helper()
	return e.do(e.request(http.MethodGet, v, ""))
}

// counter reads a counter of reg by name and one label pair.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestNonce_RefusedRequestsRecordNothing: a key whose policy denies
// everything floods signed requests; none of its nonces is remembered.
func TestNonce_RefusedRequestsRecordNothing(t *testing.T) {
	e := newEnv(t, nil)
	denied := e.newKey("nobody", policy(`{"Effect":"Deny","Action":"*","Resource":"*"}`), 1000)
	for range 200 {
		e.get(e.signedGET(denied, describeStatus, map[string]string{"Identifier": newIdentifier()})).check(t, 403, "NoPermission", "not authorized")
	}
	if n := e.api.NonceLen(); n != 0 {
		t.Errorf("nonce cache holds %d entries after 200 denied requests, want 0", n)
	}
	// Unknown actions are refused before the nonce is recorded, too.
	for range 20 {
		e.get(e.signedGET(e.admin, "DescribeEverything", nil)).check(t, 404, "InvalidAction.NotFound", "DescribeEverything")
	}
	if n := e.api.NonceLen(); n != 0 {
		t.Errorf("nonce cache holds %d entries after refused requests, want 0", n)
	}
	e.get(e.signedGET(e.admin, describeStatus, map[string]string{"Identifier": newIdentifier()})).check(t, 200, "", "")
	if n := e.api.NonceLen(); n != 1 {
		t.Errorf("nonce cache holds %d entries after one allowed request, want 1", n)
	}
}

// TestNonce_CacheBounded: the cache keeps at most NoncesPerKey per key and
// NonceCacheSize in all, counts what it evicts, and still refuses a replay
// of an evicted nonce.
func TestNonce_CacheBounded(t *testing.T) {
	e := newEnv(t, nil)
	reg := prometheus.NewRegistry()
	e.serve(&api.Options{NoncesPerKey: 5, NonceCacheSize: 8, Metrics: api.NewMetrics(reg)}, e.auth)
	status := map[string]string{"Identifier": newIdentifier()}
	// Signed a second apart, in order (V1 timestamps have one-second
	// resolution, and the floor of evicted nonces is a signing time).
	start := time.Now().Add(-5 * time.Minute)
	at := func(i int) map[string]string {
		return map[string]string{"Identifier": status["Identifier"], "Timestamp": start.Add(time.Duration(i) * time.Second).UTC().Format("2006-01-02T15:04:05Z")}
	}
	first := e.signedGET(e.admin, describeStatus, at(0))
	e.get(first).check(t, 200, "", "")
	for i := 1; i < 10; i++ {
		e.get(e.signedGET(e.admin, describeStatus, at(i))).check(t, 200, "", "")
	}
	if n := e.api.NonceLen(); n != 5 {
		t.Errorf("after 10 requests of one key: %d nonces, want the per-key bound 5", n)
	}
	if got := counter(t, reg, "certstatus_api_nonce_evictions_total", "reason", "per_key"); got != 5 {
		t.Errorf("per_key evictions: got %v, want 5", got)
	}
	e.get(first).check(t, 400, "SignatureNonceUsed", "used already")

	other := e.newKey("other", ram.AllowAll, 1000)
	for i := range 6 {
		e.get(e.signedGET(other, describeStatus, at(20+i))).check(t, 200, "", "")
	}
	if n := e.api.NonceLen(); n != 8 {
		t.Errorf("after a second key: %d nonces, want the total bound 8", n)
	}
	if got := counter(t, reg, "certstatus_api_nonce_evictions_total", "reason", "total"); got < 1 {
		t.Errorf("total evictions: got %v, want at least 1", got)
	}
}

// TestNonce_ThrottledRequestKeepsItsNonce: a request refused by the rate
// limit is retried, exactly as signed, once the limit allows it.
func TestNonce_ThrottledRequestKeepsItsNonce(t *testing.T) {
	e, fc := newThrottleEnv(t)
	k := e.newKey("slow", ram.AllowAll, 1)
	e.get(e.signedGET(k, describeStatus, map[string]string{"Identifier": newIdentifier()})).check(t, 200, "", "")
	retried := e.signedGET(k, describeStatus, map[string]string{"Identifier": newIdentifier()})
	e.get(retried).check(t, 400, "Throttling.User", "flow control")
	fc.Advance(time.Minute) // past the limiter's window
	e.get(retried).check(t, 200, "", "")
	e.get(retried).check(t, 400, "SignatureNonceUsed", "used already")
}

// TestNonce_ConcurrentIdenticalRequests: of identical signed requests sent
// at once, exactly one runs.
func TestNonce_ConcurrentIdenticalRequests(t *testing.T) {
	e := newEnv(t, nil)
	for _, action := range []string{describeStatus, createClient} {
		extra := map[string]string{"Identifier": newIdentifier()}
		if action == createClient {
			extra = map[string]string{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "once", "Days": "1"}
		}
		v := e.signedGET(e.admin, action, extra)
		const n = 8
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { codes[i] = e.get(v).status })
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == 200 {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("%s: %d of %d identical requests succeeded (%v), want exactly 1", action, ok, n, codes)
		}
	}
}

// restart closes e's server, CA and store, reopens the same bbolt file and
// serves a new api.Server (with an empty nonce cache) on it.
func (e *env) restart() {
	e.t.Helper()
	e.srv.Close()
	e.auth.Wait()
	dir := filepath.Dir(e.store.Path())
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	store, err := db.Open(dir, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	auth, err := ca.New(store, e.sealer, &ca.Options{OCSPURL: "http://ocsp.test", CRLBaseURL: "http://ocsp.test", Now: e.clock.Now})
	if err != nil {
		store.Close()
		e.t.Fatal(err)
	}
	e.store, e.auth = store, auth
	e.serve(nil, auth)
}

// TestNonce_StateChangeReplayAfterRestart: a captured signed
// CreateClientCertificate cannot be replayed after a restart inside its
// window; the nonce of a read (Describe*) is kept in memory only, so its
// replay after a restart answers again (and changes nothing).
func TestNonce_StateChangeReplayAfterRestart(t *testing.T) {
	e := newEnv(t, nil)
	for _, mode := range []string{"V1", "V3"} {
		var create, read func() rawResp
		if mode == "V1" {
			c := e.signedGET(e.admin, createClient, map[string]string{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "replayed", "Days": "1"})
			r := e.signedGET(e.admin, describeStatus, map[string]string{"Identifier": newIdentifier()})
			create, read = func() rawResp { return e.get(c) }, func() rawResp { return e.get(r) }
		} else {
			body := url.Values{"ParentIdentifier": {string(e.sub.Identifier)}, "CommonName": {"replayed"}, "Days": {"1"}}.Encode()
			c := e.v3Request(e.admin, createClient, body, body)
			rb := url.Values{"Identifier": {newIdentifier()}}.Encode()
			r := e.v3Request(e.admin, describeStatus, rb, rb)
			resend := func(req *http.Request, body string) func() rawResp {
				return func() rawResp {
					again := req.Clone(req.Context())
					again.URL.Host = e.srv.Listener.Addr().String()
					again.Host = req.Host
					again.Body = http.NoBody
					if body != "" {
						again.Body = io.NopCloser(strings.NewReader(body))
					}
					return e.do(again)
				}
			}
			create, read = resend(c, body), resend(r, rb)
		}
		create().check(t, 200, "", "")
		read().check(t, 200, "", "")
		e.restart()
		create().check(t, 400, "SignatureNonceUsed", "used already")
		read().check(t, 200, "", "")
		read().check(t, 400, "SignatureNonceUsed", "used already")
	}
	n, err := e.store.Count(context.Background(), certs.Filter{Kind: certs.KindClient, IncludeDeleted: true})
	if err != nil || n != 2 {
		t.Errorf("got %d client certificates (%v), want 2: one per signature version, none replayed", n, err)
	}
}
