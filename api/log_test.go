package api_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/internal/ram"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// logLines decodes the JSON log lines written so far.
func logLines(t *testing.T, buf *syncbuf.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// A failed signature, an unknown or disabled AccessKey, a RAM denial and
// throttling are logged once each, at info, with the AccessKeyId the
// request presented and never a secret; throttling names the limit and
// how to raise it. Other client errors stay at debug.
func TestLog_NoticedFailures(t *testing.T) {
	e := newEnv(t, nil)
	buf := &syncbuf.Buffer{}
	fc := &fixedClock{t: time.Now()}
	e.serve(&api.Options{Now: fc.Now, Logger: slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}, e.auth)
	reader := e.newKey("bob", ram.ReadOnly, 1)
	status := map[string]any{"Identifier": newIdentifier()}
	create := map[string]any{"ParentIdentifier": string(e.sub.Identifier), "CommonName": "denied", "Days": 1}

	cases := []struct {
		name, msg, key, code string
		level                string
		run                  func()
	}{
		{"wrong secret", "api request not authenticated", reader.ID, "SignatureDoesNotMatch", "INFO", func() {
			e.sdk(key{ID: reader.ID, Secret: "not-the-secret"}, false).fails("SignatureDoesNotMatch", 400, describeStatus, status)
		}},
		{"wrong secret, V1", "api request not authenticated", reader.ID, "SignatureDoesNotMatch", "INFO", func() {
			e.sdk(key{ID: reader.ID, Secret: "not-the-secret"}, true).fails("SignatureDoesNotMatch", 400, describeStatus, status)
		}},
		{"unknown AccessKey", "api request not authenticated", "LTAIUNKNOWNKEY0000000000", "InvalidAccessKeyId.NotFound", "INFO", func() {
			e.sdk(key{ID: "LTAIUNKNOWNKEY0000000000", Secret: "x"}, false).fails("InvalidAccessKeyId.NotFound", 404, describeStatus, status)
		}},
		{"denied by policy", "api request denied", reader.ID, "NoPermission", "INFO", func() {
			e.sdk(reader, false).fails("NoPermission", 403, createClient, create)
		}},
		{"allowed", "", "", "", "", func() { e.sdk(reader, false).ok(describeStatus, status) }},
		{"throttled", "api request throttled", reader.ID, "Throttling.User", "INFO", func() {
			se := e.sdk(reader, false).fails("Throttling.User", 400, describeStatus, status)
			if m := *se.Message; !strings.Contains(m, "limit is 1 requests per second") || !strings.Contains(m, "certstatus accesskey set "+reader.ID+" --qps N") {
				t.Errorf("throttling message %q: want the limit and how to raise it", m)
			}
		}},
		{"missing parameter", "api request failed", e.admin.ID, "MissingParameter", "DEBUG", func() {
			e.sdk(e.admin, false).fails("MissingParameter", 400, describeStatus, map[string]any{})
		}},
	}
	for _, c := range cases {
		before := len(logLines(t, buf))
		c.run()
		var got []map[string]any
		for _, l := range logLines(t, buf)[before:] {
			if strings.HasPrefix(l["msg"].(string), "api request") && l["msg"] != "api request" {
				got = append(got, l)
			}
		}
		if c.msg == "" {
			if len(got) != 0 {
				t.Errorf("%s: logged %v", c.name, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s: %d failure lines %v, want one", c.name, len(got), got)
		}
		l := got[0]
		if l["msg"] != c.msg || l["level"] != c.level || l["access_key"] != c.key || l["code"] != c.code {
			t.Errorf("%s: logged %v; want %q at %s with access_key %s and code %s", c.name, l, c.msg, c.level, c.key, c.code)
		}
		if c.code == "Throttling.User" && (l["limit_qps"] != 1.0 || l["owner"] != "bob" || !strings.Contains(l["raise_with"].(string), "--qps")) {
			t.Errorf("throttling line %v: want the limit, the owner and how to raise it", l)
		}
	}
	if all := buf.String(); strings.Contains(all, reader.Secret) || strings.Contains(all, e.admin.Secret) || strings.Contains(all, "not-the-secret") {
		t.Error("a secret is in the log")
	}
}
