package api_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/certs"
)

// TestCreate_CustomIdentifierRefused: a CustomIdentifier that reads as a
// certificate Identifier, or carries NUL, '/' or control characters, is
// refused naming CustomIdentifier, and nothing is issued.
func TestCreate_CustomIdentifierRefused(t *testing.T) {
	e := newEnv(t, nil)
	other := issue(t, e, "shadowed")
	c := e.sdk(e.admin, false)
	for name, custom := range map[string]string{
		"another certificate's identifier": string(other.Identifier),
		"upper-case identifier":            strings.ToUpper(string(other.Identifier)),
		"NUL":                              "dev\x00ice",
		"slash":                            "fleet/1",
		"control character":                "dev\tice",
	} {
		se := c.fails("InvalidParameter", 400, createClient, map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "custom", "Days": 1, "CustomIdentifier": custom})
		if msg := *se.Message; !strings.Contains(msg, `"CustomIdentifier"`) {
			t.Errorf("%s: message %q does not name CustomIdentifier", name, msg)
		}
	}
	n, err := e.store.Count(context.Background(), certs.Filter{Kind: certs.KindClient, IncludeDeleted: true})
	if err != nil || n != 1 {
		t.Errorf("got %d client certificates (%v), want only the first", n, err)
	}
}

// TestCreate_DuplicateNamesNoOtherCertificate: a taken CustomIdentifier
// is Duplicate, and the message does not reveal which certificate has it.
func TestCreate_DuplicateNamesNoOtherCertificate(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sdk(e.admin, false)
	q := map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "dup", "Days": 1, "CustomIdentifier": "device-7"}
	first := c.ok(createClient, q)["Identifier"].(string)
	q["CommonName"] = "dup again"
	se := c.fails("Duplicate", 409, createClient, q)
	body := rawBody(t, se)
	if msg := body["Message"].(string); strings.Contains(msg, first) || !strings.Contains(msg, "CustomIdentifier") {
		t.Errorf("Duplicate message %q: must name CustomIdentifier and not the certificate %s", msg, first)
	}
}

// recordHandler is a slog.Handler that keeps the records and signals when
// a request's outcome has been logged.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
	done    chan struct{}
	once    sync.Once
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r)
	h.mu.Unlock()
	if r.Message == "api request failed" || r.Message == "api request" {
		h.once.Do(func() { close(h.done) })
	}
	return nil
}

// blockingAuthority is the real CA whose Issue waits for the client to go
// away before it starts: a client that disconnects mid-issuance.
type blockingAuthority struct {
	api.Authority
	entered chan struct{}
}

func (a blockingAuthority) Issue(ctx context.Context, req certs.IssueRequest) (certs.Issued, error) {
	close(a.entered)
	<-ctx.Done()
	return a.Authority.Issue(ctx, req)
}

// TestCreate_ClientGoneMidIssuance: the issuance is not half-done, and the
// outcome is counted and logged as ClientClosedRequest, not InternalError.
func TestCreate_ClientGoneMidIssuance(t *testing.T) {
	e := newEnv(t, nil)
	h := &recordHandler{done: make(chan struct{})}
	reg := prometheus.NewRegistry()
	a := blockingAuthority{Authority: e.auth, entered: make(chan struct{})}
	e.serve(&api.Options{Logger: slog.New(h), Metrics: api.NewMetrics(reg)}, a)

	v := e.signedGET(e.admin, createClient, map[string]string{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "abandoned", "Days": "1"})
	ctx, cancel := context.WithCancel(context.Background())
	req := e.request(http.MethodGet, v, "").WithContext(ctx)
	errc := make(chan error, 1)
	go func() {
		res, err := e.srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-a.entered
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the cancelled client got an answer")
	}
	<-h.done

	codes := map[string]float64{}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "certstatus_api_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var action, code string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "action":
					action = l.GetValue()
				case "code":
					code = l.GetValue()
				}
			}
			if action == createClient {
				codes[code] += m.GetCounter().GetValue()
			}
		}
	}
	if codes["ClientClosedRequest"] != 1 || codes["InternalError"] != 0 {
		t.Errorf("%s calls by code: %v, want one ClientClosedRequest and no InternalError", createClient, codes)
	}
	h.mu.Lock()
	for _, r := range h.records {
		if r.Level >= slog.LevelError {
			t.Errorf("logged at %v: %s", r.Level, r.Message)
		}
	}
	h.mu.Unlock()
	n, err := e.store.Count(context.Background(), certs.Filter{Kind: certs.KindClient, IncludeDeleted: true})
	if err != nil || n != 0 {
		t.Errorf("got %d client certificates (%v), want none: the issuance stopped before its write", n, err)
	}
	if ps, err := e.store.Check(context.Background()); err != nil || len(ps) > 0 {
		t.Errorf("store check: %v %v", err, ps)
	}
}

// TestRaw_OversizeContentLengthRefusedFromHeader: a request announcing a
// body over the limit gets 413 at once, without "100 Continue" and without
// the server waiting for (or reading) the body.
func TestRaw_OversizeContentLengthRefusedFromHeader(t *testing.T) {
	e := newEnv(t, nil)
	for _, expect := range []bool{true, false} {
		t.Run(fmt.Sprintf("expect=%v", expect), func(t *testing.T) {
			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A guard against a hang on a server that waits for the body;
			// not a timing assertion.
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			head := "POST / HTTP/1.1\r\nHost: " + e.endpoint + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n"
			if expect {
				head += "Expect: 100-continue\r\n"
			}
			if _, err := conn.Write([]byte(head + "\r\n")); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer (the body was never sent): %v", err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("first answer: %s, want 413 (and no 100 Continue)", res.Status)
			}
		})
	}
}
