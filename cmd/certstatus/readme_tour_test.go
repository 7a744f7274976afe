package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The README's five-minute tour, run as written: its commands are the
// lines of the README's code blocks fenced "```sh tour", and they run, in
// order, in one bash session (the reader's second terminal) in a
// directory where ./bin/certstatus is the binary built from this tree and
// ./data is held by a running "certstatus serve" (the reader's make run).

// readmeTourFence opens a code block of the tour.
const readmeTourFence = "```sh tour"

// readmeTourMinCommands is the number of commands the tour has today: a
// README that loses some of them fails the test instead of testing less.
const readmeTourMinCommands = 12

// readmeTourCommands returns the commands of the tour blocks of a README,
// with "\"-continued lines joined and comment-only and blank lines left
// out.
func readmeTourCommands(readme string) ([]string, error) {
	var cmds []string
	in, cont := false, ""
	for n, line := range strings.Split(readme, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == readmeTourFence:
			in = true
			continue
		case !in:
			continue
		case strings.HasPrefix(trimmed, "```"):
			if cont != "" {
				return nil, fmt.Errorf("README line %d: tour block ends inside a continued command", n+1)
			}
			in = false
			continue
		}
		if cont == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cont += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cmds = append(cmds, cont+trimmed)
		cont = ""
	}
	if in {
		return nil, fmt.Errorf("a %q block is not closed", readmeTourFence)
	}
	return cmds, nil
}

func TestReadmeTourCommands_Parse(t *testing.T) {
	readme := "intro\n```sh\nnot the tour\n```\n" +
		readmeTourFence + "\n# a comment\nmkdir -p tour\n\n./bin/certstatus cert issue \\\n    --cn x   # trailing\n```\ntext\n" +
		readmeTourFence + "\necho two\n```\n"
	got, err := readmeTourCommands(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mkdir -p tour", "./bin/certstatus cert issue  --cn x   # trailing", "echo two"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{readmeTourFence + "\necho open\n", readmeTourFence + "\necho a \\\n```\n"} {
		if _, err := readmeTourCommands(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// tourMarker precedes the output of each command in the tour's output.
const tourMarker = "@@readme-tour "

// tourScript is the bash script that runs cmds in one session, stopping
// at the first that fails, each command's output preceded by a marker
// line with its number and the whole followed by one with "end".
func tourScript(cmds []string) string {
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	for i, c := range cmds {
		fmt.Fprintf(&b, "printf '\\n%s%d\\n'\n%s\n", tourMarker, i, c)
	}
	fmt.Fprintf(&b, "printf '\\n%send\\n'\n", tourMarker)
	return b.String()
}

// tourOutputs splits the tour's combined output at the markers: outputs[i]
// is what command i printed; done says whether the end marker was reached.
func tourOutputs(out string, n int) (outputs []string, done bool) {
	outputs = make([]string, n)
	cur := -1
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, tourMarker); ok {
			if rest == "end" {
				return outputs, true
			}
			if i, err := strconv.Atoi(rest); err == nil && i >= 0 && i < n {
				cur = i
				continue
			}
		}
		if cur >= 0 {
			outputs[cur] += line + "\n"
		}
	}
	return outputs, false
}

// startTourServer runs "serve" on the data directory ./data of dir, as
// make run does but on free ports, and returns the API and OCSP addresses
// once it prints them. It is killed when the test ends.
func startTourServer(t *testing.T, bin, dir string) (api, ocspAddr string) {
	t.Helper()
	api = fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	ocspAddr = fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	srv := exec.Command(bin, "serve", "--data", "./data", "--api-addr", api, "--ocsp-addr", ocspAddr)
	srv.Dir = dir
	srv.Env = tourEnv(nil)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	ocspRe := regexp.MustCompile(`OCSP +http://` + regexp.QuoteMeta(ocspAddr))
	var all []string
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited: %s\n%s", strings.Join(all, "\n"), stderr.String())
			}
			all = append(all, l)
			if ocspRe.MatchString(l) {
				go func() {
					for range lines {
					}
				}()
				return api, ocspAddr
			}
		case <-timeout:
			t.Fatalf("serve printed no OCSP address: %s", strings.Join(all, "\n"))
		}
	}
}

// tourEnv is the environment of the tour's processes: this one's without
// CERTSTATUS_* variables (a developer's settings must not change the
// tour), plus extra.
func tourEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTSTATUS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestReadmeTour runs the commands of the README's tour against a running
// serve, failing on any command that exits non-zero, and checks what the
// tour says they show: good over OCSP and the JSON API, then, after the
// CLI revoked the certificate while serve runs, revoked in both.
//
// Two things differ from a reader's terminal, both because tests must not
// take the fixed ports 8080 and 8888: the OCSP URL the tour names,
// http://127.0.0.1:8888, is replaced with the test server's, and
// CERTSTATUS_SERVER gives certstatus api the test server's API URL (its
// default is make run's http://127.0.0.1:8080).
func TestReadmeTour(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is not installed (Debian package openssl); .ci/run installs it")
		}
		t.Skip("openssl is not installed (Debian package openssl): the README's tour uses it")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := readmeTourCommands(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) < readmeTourMinCommands {
		t.Fatalf("README.md has %d tour commands in %q blocks, want at least %d:\n%s",
			len(cmds), readmeTourFence, readmeTourMinCommands, strings.Join(cmds, "\n"))
	}
	// The steps the tour promises, in order: issue, OCSP good, API good,
	// revoke with the CLI, OCSP revoked, API revoked.
	steps := []struct{ prefix, wants string }{
		{"./bin/certstatus cert issue ", "Identifier:"},
		{"openssl ocsp ", "Response verify OK|: good"},
		{"./bin/certstatus api DescribeClientCertificateStatus ", `"Status": "good"`},
		{"./bin/certstatus cert revoke ", "REVOKE"},
		{"openssl ocsp ", "Response verify OK|: revoked|Reason: keyCompromise"},
		{"./bin/certstatus api DescribeClientCertificateStatus ", `"Status": "revoked"|"RevokeTime"`},
	}
	at := make([]int, len(steps))
	next := 0
	for i, c := range cmds {
		if next < len(steps) && strings.HasPrefix(c, steps[next].prefix) {
			at[next] = i
			next++
		}
	}
	if next < len(steps) {
		t.Fatalf("README.md's tour lacks a step starting %q (after the ones before it):\n%s", steps[next].prefix, strings.Join(cmds, "\n"))
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "certstatus")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	api, ocspAddr := startTourServer(t, bin, dir)
	script := strings.ReplaceAll(tourScript(cmds), "http://127.0.0.1:8888", "http://"+ocspAddr)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-c", script)
	sh.Dir = dir
	sh.Env = tourEnv([]string{"CERTSTATUS_SERVER=http://" + api})
	sh.Stdin = nil
	raw, runErr := sh.CombinedOutput()
	outputs, done := tourOutputs(string(raw), len(cmds))
	if runErr != nil || !done {
		last := -1
		for i := range outputs {
			if strings.Contains(string(raw), fmt.Sprintf("%s%d\n", tourMarker, i)) {
				last = i
			}
		}
		if last < 0 {
			t.Fatalf("the tour failed before its first command: %v\n%s", runErr, raw)
		}
		t.Fatalf("tour command %d failed (%v): %s\n%s", last+1, runErr, cmds[last], outputs[last])
	}
	for i, s := range steps {
		for _, w := range strings.Split(s.wants, "|") {
			if !strings.Contains(outputs[at[i]], w) {
				t.Errorf("tour command %d (%s) printed no %q:\n%s", at[i]+1, cmds[at[i]], w, outputs[at[i]])
			}
		}
	}
	if strings.Contains(outputs[at[1]], "revoked") {
		t.Errorf("the first OCSP answer says revoked:\n%s", outputs[at[1]])
	}
}
