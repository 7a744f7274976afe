package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes at a new directory and returns
// it; it is unmounted when the test ends. The test is skipped when the
// process may not mount (not root, no mount(8), a container without the
// capability).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root (CI runs as root)")
	}
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			exec.Command("umount", "-l", dir).Run()
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file at path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	// A last byte at a time, so that no block is left.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
}

// TestServe_DiskFull: with the disk full, a write is answered 503
// ServiceUnavailable.StorageWriteFailed naming the storage, counted in
// certstatus_db_write_failures_total, and /readyz says the store is not
// writable; what was stored before is intact and reads go on. Once space
// is freed, the next write succeeds and /readyz is ready again.
func TestServe_DiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "16m")
	c := newCLI(t, filepath.Join(mnt, "data"))
	e := &ocspEnv{c: c}
	e.api, e.ocsp, _, e.stop = startServe(t, c)
	list := e.callAPI(t, "DescribeCACertificateList", map[string]any{"CertType": "subRoot"})
	sub := list["CertificateList"].([]any)[0].(map[string]any)["Identifier"].(string)
	create := func(cn string) (string, error) {
		out, err := e.callAPIErr(t, "CreateClientCertificate", map[string]any{"ParentIdentifier": sub, "CommonName": cn, "Days": 7})
		if err != nil {
			return "", err
		}
		return out["Identifier"].(string), nil
	}
	before, err := create("before")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := getJSON(t, e.api+"/readyz"); code != 200 {
		t.Fatalf("readyz before: %d %v", code, body)
	}

	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	var failed error
	for i := 0; i < 200 && failed == nil; i++ {
		_, failed = create("while full")
	}
	if failed == nil {
		t.Fatal("200 issuances succeeded on a full disk")
	}
	if code, status := sdkCode(t, failed); code != "ServiceUnavailable.StorageWriteFailed" || status != 503 {
		t.Errorf("a write on a full disk: %s %d, want ServiceUnavailable.StorageWriteFailed 503", code, status)
	}
	if !strings.Contains(failed.Error(), "no space left on device") || strings.Contains(failed.Error(), mnt) {
		t.Errorf("message %q: want the cause, not the path", failed)
	}
	code, body := getJSON(t, e.api+"/readyz")
	if code != 503 || !strings.Contains(body["reason"], "not writable") {
		t.Errorf("readyz on a full disk: %d %v", code, body)
	}
	if m := regexp.MustCompile(`(?m)^certstatus_db_write_failures_total (\d+)$`).FindStringSubmatch(scrape(t, e.api)); m == nil || m[1] == "0" {
		t.Errorf("certstatus_db_write_failures_total: %v", m)
	}
	st := e.callAPI(t, "DescribeClientCertificateStatus", map[string]any{"Identifier": before})["CertificateStatus"].([]any)
	if st[0].(map[string]any)["Status"] != "good" {
		t.Errorf("status of a certificate stored before: %v", st)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	after, err := create("after")
	if err != nil {
		t.Fatalf("a write after space was freed: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, body := getJSON(t, e.api+"/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after space was freed: %d %v", code, body)
		}
	}
	for _, id := range []string{before, after} {
		st := e.callAPI(t, "DescribeClientCertificateStatus", map[string]any{"Identifier": id})["CertificateStatus"].([]any)
		if st[0].(map[string]any)["Status"] != "good" {
			t.Errorf("status of %s: %v", id, st)
		}
	}
	e.shutdown(t)
	if out := c.ok("check"); !strings.HasPrefix(out, "ok:") {
		t.Errorf("check after the disk was full: %s", out)
	}
}
