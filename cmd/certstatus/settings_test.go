package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/ocspclient"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// TestSettings_FlagThatDiffersIsRefused: a flag, variable or config key
// for a stored setting is accepted when it says what is stored and
// refused, naming certstatus settings set, when it differs.
func TestSettings_FlagThatDiffersIsRefused(t *testing.T) {
	e, _ := newInitEnv(t, "--no-ca")
	serve := func(args ...string) error {
		// A refusal returns at once; a serve that starts stops after 2s.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return runEnv(ctx, append([]string{"serve", "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"}, args...),
			&cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: e.c.getenv})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ocsp-url", "http://elsewhere.example"}, `--ocsp-url "http://elsewhere.example" (from the command line) differs from the setting ocsp_url "` + initOCSPURL + `"`},
		{[]string{"--crl-base-url", "http://elsewhere.example"}, "certstatus settings set --crl-base-url http://elsewhere.example"},
		{[]string{"--ocsp-sign-with-ca"}, `--ocsp-sign-with-ca "true" (from the command line) differs from the setting ocsp_sign_with_ca "false"`},
		{[]string{"--ocsp-validity", "48h"}, "certstatus settings set --ocsp-validity 48h"},
		{[]string{"--ocsp-responder-id", "byName"}, "ocsp_responder_id"},
		{[]string{"--ocsp-responder-validity", "1000h"}, "ocsp_responder_validity"},
	} {
		if err := serve(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "certstatus settings set") {
			t.Errorf("serve %q: %v, want a refusal containing %q", tc.args, err, tc.want)
		}
	}
	// The same values are accepted silently.
	if err := serve("--ocsp-url", initOCSPURL, "--crl-base-url", initCRLURL, "--ocsp-validity", "24h", "--ocsp-sign-with-ca=false"); err != nil {
		t.Errorf("serve with the stored values: %v", err)
	}
	// Offline commands and the environment alike.
	e.c.fails(`--ocsp-url "http://elsewhere.example" (from the command line) differs`, "cert", "list", "--ocsp-url", "http://elsewhere.example")
	e.c.env["CERTSTATUS_OCSP_URL"] = "http://elsewhere.example"
	e.c.fails(`(from $CERTSTATUS_OCSP_URL) differs from the setting ocsp_url`, "ca", "list")
	e.c.env["CERTSTATUS_OCSP_URL"] = initOCSPURL
	e.c.ok("ca", "list")
	_, _, out, stop := startServe(t, e.c)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "URL in issued certificates: "+initOCSPURL) {
		t.Errorf("serve with $CERTSTATUS_OCSP_URL as stored:\n%s", out)
	}
}

// TestSettings_SetShowAudit: settings set changes what show prints, is
// audited as settings.update with the actor and old→new values, and
// refuses an invalid value naming the field, changing nothing.
func TestSettings_SetShowAudit(t *testing.T) {
	e, _ := newInitEnv(t, "--no-ca")
	var before settingsView
	e.c.json(&before, "settings", "show")
	want := settingsView{OCSPURL: initOCSPURL, CRLBaseURL: initCRLURL, OCSPValidity: "24h", OCSPResponderValidity: "720h", OCSPResponderID: "byKey"}
	if before != want {
		t.Errorf("show = %+v, want %+v", before, want)
	}
	out := e.c.ok("settings", "set", "--ocsp-url", "https://status.example/ocsp", "--ocsp-validity", "96h", "--ocsp-responder-id", "byName")
	for _, line := range []string{`changed ocsp_url "` + initOCSPURL + `"→"https://status.example/ocsp"`, `changed ocsp_validity "24h"→"96h"`, "new URLs", "re-signs"} {
		if !strings.Contains(out, line) {
			t.Errorf("settings set output lacks %q:\n%s", line, out)
		}
	}
	var after settingsView
	e.c.json(&after, "settings", "show")
	want.OCSPURL, want.OCSPValidity, want.OCSPResponderID = "https://status.example/ocsp", "96h", "byName"
	if after != want {
		t.Errorf("show after set = %+v, want %+v", after, want)
	}
	if text := e.c.ok("settings", "show"); !strings.Contains(text, "ocsp_responder_id        byName") {
		t.Errorf("show:\n%s", text)
	}
	if out := e.c.ok("settings", "set", "--ocsp-validity", "96h"); !strings.Contains(out, "settings unchanged") {
		t.Errorf("a set to the same value: %s", out)
	}

	for _, tc := range []struct{ args []string }{
		{[]string{"--ocsp-url", "ocsp.example.com"}},
		{[]string{"--ocsp-validity", "2h"}},
		{[]string{"--ocsp-validity", "soon"}},
		{[]string{"--ocsp-responder-validity", "100h"}},
		{[]string{"--ocsp-responder-id", "byHash"}},
	} {
		field := strings.ReplaceAll(strings.TrimPrefix(tc.args[0], "--"), "-", "_")
		e.c.fails(field, append([]string{"settings", "set"}, tc.args...)...)
	}
	e.c.fails("at least one setting", "settings", "set")
	var still settingsView
	e.c.json(&still, "settings", "show")
	if still != want {
		t.Errorf("refused sets changed the settings: %+v", still)
	}

	var events []auditView
	e.c.json(&events, "audit", "list")
	var updates []auditView
	for _, ev := range events {
		if ev.Action == "settings.update" {
			updates = append(updates, ev)
		}
	}
	if len(updates) != 1 {
		t.Fatalf("settings.update events: %+v, want one", updates)
	}
	u := updates[0]
	if !strings.HasPrefix(u.Actor, "cli:") || u.Subject != "settings" ||
		u.Details != `ocsp_url "`+initOCSPURL+`"→"https://status.example/ocsp" ocsp_validity "24h"→"96h" ocsp_responder_id "byKey"→"byName"` {
		t.Errorf("settings.update event %+v", u)
	}
	if events[0].Action != "settings.create" || !strings.HasPrefix(events[0].Actor, "cli:") {
		t.Errorf("first event %+v, want init's settings.create", events[0])
	}
}

// asSchema9 turns the data directory's file into what certstatus wrote
// before stored settings: schema 9, no settings bucket.
func asSchema9(t *testing.T, data string) {
	t.Helper()
	b, err := bolt.Open(filepath.Join(data, db.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("settings")); err != nil {
			return err
		}
		meta := tx.Bucket([]byte("meta"))
		v := binary.BigEndian.AppendUint32(nil, 9)
		if err := meta.Put([]byte("schema"), v); err != nil {
			return err
		}
		// meta/schema_sealed: the version and the CRC-32C of key and value.
		table := crc32.MakeTable(crc32.Castagnoli)
		sum := crc32.Update(crc32.Update(0, table, []byte("schema_sealed")), table, v)
		return meta.Put([]byte("schema_sealed"), binary.BigEndian.AppendUint32(bytes.Clone(v), sum))
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSettings_SchemaNineDirectory: a data directory from before stored
// settings migrates at its first open, which stores the settings it was
// given (and says so once); every later command reads them.
func TestSettings_SchemaNineDirectory(t *testing.T) {
	c, _, sub := newDataDir(t)
	data := c.env["CERTSTATUS_DATA"]
	asSchema9(t, data)
	var chk struct {
		OK     bool
		Schema int
	}
	// check reports the old schema and the missing bucket as problems
	// (and fails), but still as JSON.
	if out, _, _ := c.run("check", "--json"); json.Unmarshal([]byte(out), &chk) != nil || chk.Schema != 9 || chk.OK {
		t.Fatalf("check says %+v (%s), want schema 9 with problems", chk, out)
	}

	const upgraded = "http://upgraded.example/ocsp"
	var errb syncbuf.Buffer
	err := runEnv(context.Background(), []string{"cert", "list", "--log-level", "info", "--ocsp-url", upgraded},
		&cmdEnv{stdout: io.Discard, stderr: &errb, getenv: c.getenv})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(errb.String(), "settings stored in the data directory"); n != 1 || !strings.Contains(errb.String(), "ocsp_url="+upgraded) {
		t.Errorf("first open after the upgrade logged the stored settings %d times, want once:\n%s", n, errb.String())
	}
	var again syncbuf.Buffer
	if err := runEnv(context.Background(), []string{"ca", "list", "--log-level", "info"}, &cmdEnv{stdout: io.Discard, stderr: &again, getenv: c.getenv}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(again.String(), "settings stored") {
		t.Errorf("a second open stored the settings again:\n%s", again.String())
	}
	c.json(&chk, "check")
	if !chk.OK || chk.Schema != db.SchemaVersion() {
		t.Errorf("check after the upgrade: %+v", chk)
	}
	var st settingsView
	c.json(&st, "settings", "show")
	if st.OCSPURL != upgraded || st.CRLBaseURL != upgraded || st.OCSPValidity != "24h" {
		t.Errorf("stored after the upgrade: %+v", st)
	}
	var out struct{ Certificate certView }
	dir := t.TempDir()
	c.json(&out, "cert", "issue", "--cn", "after-upgrade", "--out-dir", dir)
	if cert := readCertFile(t, filepath.Join(dir, out.Certificate.Identifier+".pem")); len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != upgraded ||
		cert.CRLDistributionPoints[0] != upgraded+"/crl/"+sub+".crl" {
		t.Errorf("issued after the upgrade: OCSP %q, CRL %q", cert.OCSPServer, cert.CRLDistributionPoints)
	}
}

// TestSettings_SignWithCAThenServe: after settings set --ocsp-sign-with-ca
// the next serve answers for certificates issued before, signed by the CA
// itself rather than the delegated responder that signed them first.
func TestSettings_SignWithCAThenServe(t *testing.T) {
	e, _ := newInitEnv(t, "--ca-cn", "Signer Test Root CA", "--o", "Signer Test", "--c", "DE")
	id := e.issue(t, "--cn", "signed-before.example")
	req := ocspRequest(t, e.cert(t, id), e.subCert, nil)
	signer := func() *x509.Certificate {
		t.Helper()
		e.serve(t)
		defer e.shutdown(t)
		// ocspclient, not x/crypto: x/crypto refuses a sub CA's own
		// answers that carry its certificate (golang/go#59641).
		r, err := ocspclient.Verify(postOCSP(t, e.ocsp, req), e.cert(t, id), e.subCert, time.Now())
		if err != nil || r.Status != ocsp.Good {
			t.Fatalf("OCSP: %+v, %v", r, err)
		}
		return r.Certificate
	}
	if c := signer(); c == nil || bytes.Equal(c.RawSubject, e.subCert.RawSubject) {
		t.Fatalf("before: the answer is not signed by a delegated responder (certificate %v)", c)
	}
	e.c.ok("settings", "set", "--ocsp-sign-with-ca")
	if c := signer(); c != nil && !bytes.Equal(c.Raw, e.subCert.Raw) {
		t.Errorf("after settings set --ocsp-sign-with-ca the answer is signed by %v, want the CA", c.Subject)
	}
}

// TestSettings_BoundsAgreeWithSigner: certs' validity bounds are the
// signer's.
func TestSettings_BoundsAgreeWithSigner(t *testing.T) {
	if certs.MinOCSPValidity != ocspsign.MinValidity || certs.MaxOCSPValidity != ocspsign.MaxValidity {
		t.Errorf("certs bounds %v..%v, ocspsign %v..%v", certs.MinOCSPValidity, certs.MaxOCSPValidity, ocspsign.MinValidity, ocspsign.MaxValidity)
	}
}

// TestSettings_OfflineAnswersUseStoredSigner: an answer an offline command
// pre-signs at issuance follows the stored signer settings, not the
// defaults an offline command's flags would give.
func TestSettings_OfflineAnswersUseStoredSigner(t *testing.T) {
	e, _ := newInitEnv(t, "--ca-cn", "Offline Root CA", "--o", "Offline", "--c", "DE", "--ocsp-validity", "48h", "--ocsp-sign-with-ca")
	id := e.issue(t, "--cn", "offline.example")
	cert := e.cert(t, id)
	s, err := db.Open(e.c.env["CERTSTATUS_DATA"], &db.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored, err := s.OCSPResponse(t.Context(), certs.Identifier(e.subID), certs.SerialFromBig(cert.SerialNumber), crypto.SHA1)
	if err != nil {
		t.Fatalf("no answer stored at issuance: %v", err)
	}
	r, err := ocspclient.Verify(stored.DER, cert, e.subCert, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.NextUpdate.Sub(r.ThisUpdate); got != 48*time.Hour {
		t.Errorf("stored answer valid %v, want the stored 48h", got)
	}
	if r.Certificate != nil && !bytes.Equal(r.Certificate.Raw, e.subCert.Raw) {
		t.Errorf("stored answer signed by %v, want the CA (ocsp_sign_with_ca)", r.Certificate.Subject)
	}
}
