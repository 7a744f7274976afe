package main

import (
	"context"
	"crypto"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// TestServe_DamagedFileRefused: serve refuses a file with a zeroed page or
// cut short, saying what check found and how to restore a backup, and
// check reports such a file (in-process: a crash would end this test).
func TestServe_DamagedFileRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, data string)
	}{
		{"zeroed page", func(t *testing.T, data string) {
			size, root := dbtest.BucketRoot(t, filepath.Join(data, db.FileName), "certs")
			dbtest.ZeroPage(t, filepath.Join(data, db.FileName), size, root)
		}},
		{"truncated", func(t *testing.T, data string) {
			size, root := dbtest.BucketRoot(t, filepath.Join(data, db.FileName), "certs")
			if err := os.Truncate(filepath.Join(data, db.FileName), root*int64(size)+10); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOCSPEnv(t)
			for range 40 {
				e.issue(t, "--cn", "many")
			}
			data := e.c.env["CERTSTATUS_DATA"]
			tc.damage(t, data)
			err := serveUntilListening(t, e.c)
			if err == nil {
				t.Fatal("serve started on a damaged file")
			}
			for _, want := range []string{"damaged", "certstatus check", "restore the last backup"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("serve: %v\nwant it to say %q", err, want)
				}
			}
			out, _, err := e.c.run("check")
			if err == nil || !strings.Contains(out, "problem: bbolt/") || !strings.Contains(err.Error(), "restore") {
				t.Errorf("check: %v\n%s", err, out)
			}
		})
	}
}

// serveUntilListening runs serve and returns its error if it exits before
// printing its addresses; if it starts serving, it is stopped and nil is
// returned.
func serveUntilListening(t *testing.T, c *cli) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- runEnv(ctx, []string{"serve", "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0"}, &cmdEnv{stdout: out, stderr: io.Discard, getenv: c.getenv})
	}()
	for {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("serve exited without an error")
			}
			return err
		case <-time.After(20 * time.Millisecond):
			if strings.Contains(out.String(), "JSON API") {
				cancel()
				<-done
				return nil
			}
		}
	}
}

// TestServe_PageDamagedUnderAWrite: a page damaged while serving — the
// audit trail's, which every write appends to — fails the first write that
// meets it (503 ServiceUnavailable.StorageWriteFailed) instead of crashing
// the process; /readyz then says the store is not writable, further writes
// are refused at once, and reads (JSON status, OCSP) go on being answered.
func TestServe_PageDamagedUnderAWrite(t *testing.T) {
	e := newOCSPEnv(t)
	id := e.issue(t, "--cn", "before")
	for range 10 {
		e.issue(t, "--cn", "more audit events")
	}
	data := e.c.env["CERTSTATUS_DATA"]
	size, root := dbtest.BucketRoot(t, filepath.Join(data, db.FileName), "audit")
	e.serve(t)
	dbtest.ZeroPage(t, filepath.Join(data, db.FileName), size, root)

	for i, action := range []string{"first", "second"} {
		_, err := e.callAPIErr(t, "CreateClientCertificate", map[string]any{"ParentIdentifier": e.subID, "CommonName": action, "Days": 7})
		if err == nil {
			t.Fatalf("write %d over a zeroed page succeeded", i+1)
		}
		if code, status := sdkCode(t, err); code != "ServiceUnavailable.StorageWriteFailed" || status != 503 {
			t.Errorf("write %d: %s %d, want ServiceUnavailable.StorageWriteFailed 503", i+1, code, status)
		}
	}
	code, body := getJSON(t, e.api+"/readyz")
	if code != 503 || !strings.Contains(body["reason"], "not writable") || !strings.Contains(body["reason"], "certstatus check") {
		t.Errorf("readyz: %d %v", code, body)
	}
	st := e.callAPI(t, "DescribeClientCertificateStatus", map[string]any{"Identifier": id})["CertificateStatus"].([]any)
	if st[0].(map[string]any)["Status"] != "good" {
		t.Errorf("status after the failure: %v", st)
	}
	r, err := ocsp.ParseResponse(postOCSP(t, e.ocsp, ocspRequest(t, e.cert(t, id), e.subCert, &ocsp.RequestOptions{Hash: crypto.SHA1})), e.subCert)
	if err != nil || r.Status != ocsp.Good {
		t.Errorf("OCSP after the failure: %v, %v", r, err)
	}
	if code, _ := getJSON(t, e.api+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
}
