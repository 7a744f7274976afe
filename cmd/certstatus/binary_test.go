package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the real certstatus binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "certstatus")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary_ServeSignalAndLock runs the real binary: serve, a second
// process refused within a second with a clear message, SIGTERM finishing
// in-flight work and closing the database, exit status 0.
func TestBinary_ServeSignalAndLock(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	srv := exec.Command(bin, "serve", "--data", data, "--api-addr", "127.0.0.1:0", "--ocsp-addr", "127.0.0.1:0")
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	apiRe := regexp.MustCompile(`JSON API  (http://\S+)`)
	var api string
	var all []string
	timeout := time.After(60 * time.Second)
	for api == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited: %v", all)
			}
			all = append(all, l)
			if m := apiRe.FindStringSubmatch(l); m != nil {
				api = m[1]
			}
		case <-timeout:
			t.Fatalf("no address printed: %v", all)
		}
	}
	resp, err := http.Get(api + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// A command that cannot run through the server (import: its inputs
	// are files and directories here) names the lock; cert list goes
	// through it.
	if out, err := exec.Command(bin, "cert", "list", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("cert list through the server: %v\n%s", err, out)
	}
	second := exec.Command(bin, "import", "pem", "--bundle", "/nonexistent.pem", "--ca-cert", "/nonexistent-ca.pem", "--data", data)
	start := time.Now()
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatal("second process opened a held database for an import")
	}
	if !strings.Contains(string(out), data) || !strings.Contains(string(out), "in use by another certstatus process") {
		t.Errorf("second process message: %s", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("second process took %v to give up", d)
	}
	if code := second.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}

	srv.Process.Signal(syscall.SIGTERM)
	for l := range lines {
		all = append(all, l)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%v", err, all)
	}
	if !strings.Contains(strings.Join(all, "\n"), "database closed cleanly") {
		t.Errorf("no clean shutdown line: %v", all)
	}
	if out, err := exec.Command(bin, "check", "--data", data).CombinedOutput(); err != nil {
		t.Errorf("check after shutdown: %v\n%s", err, out)
	}
	usage := exec.Command(bin, "nonsense")
	usage.Run()
	if usage.ProcessState.ExitCode() != 2 {
		t.Errorf("usage error exit status %d, want 2", usage.ProcessState.ExitCode())
	}
}
