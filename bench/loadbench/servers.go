package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	cfocsp "github.com/cloudflare/cfssl/ocsp"
	"golang.org/x/crypto/ocsp"
)

// server is one responder under test. start launches it pinned to cpu and
// returns its base URL and a stop function.
type server struct {
	name   string
	nonces bool // answers nonce requests with the nonce echoed
	start  func(cpu string) (base string, stop func(), err error)
	// certstatus only: a start with more serve flags, the metrics URL, and
	// when the import finished.
	startWith func(cpu string, extra ...string) (base string, stop func(), err error)
	metrics   string
	imported  time.Time
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverPID maps a server's base URL to the process whose CPU time is the
// server's (for openssl, the responder behind the proxy).
var serverPID = map[string]int{}

// startPinned runs argv under taskset and waits until base answers probe.
func startPinned(cpu string, env []string, probe func(base string) error, base string, argv ...string) (func(), error) {
	cmd := exec.Command("taskset", append([]string{"-c", cpu}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := probe(base)
		if err == nil {
			serverPID[base] = cmd.Process.Pid // taskset execs: the same process
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not answer: %v\n%s", argv[0], err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logMemory reports a server's memory after a run: the Go heap from its
// Prometheus metrics, and from /proc its resident memory split into
// anonymous (heap, stacks, runtime) and file-backed (the memory-mapped
// database's pages the kernel keeps mapped).
func logMemory(name, metricsURL string, pid int) {
	heap := scrape(metricsURL, "go_memstats_heap_alloc_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_sys_bytes")
	proc := map[string]string{}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && (k == "VmRSS" || k == "RssAnon" || k == "RssFile") {
				proc[k] = strings.TrimSpace(v)
			}
		}
	}
	log.Printf("%s memory: Go heap alloc %.1f MiB, heap in use %.1f MiB, from the OS %.1f MiB; RSS %s (anonymous %s, file-backed %s)", name,
		heap["go_memstats_heap_alloc_bytes"]/(1<<20), heap["go_memstats_heap_inuse_bytes"]/(1<<20), heap["go_memstats_sys_bytes"]/(1<<20), proc["VmRSS"], proc["RssAnon"], proc["RssFile"])
}

func buildCertstatus(dir, prebuilt string) (string, error) {
	if prebuilt != "" {
		return prebuilt, nil
	}
	bin := filepath.Join(dir, "certstatus")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/certstatus")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/certstatus (run loadbench from the repository root): %w", err)
	}
	return bin, nil
}

// prepareCertstatus bootstraps a data directory, imports the fixture with
// "import openssl-index" (the documented bulk-load path) and returns the
// server.
func prepareCertstatus(dir, bin string, fx *fixture, args []string) (server, error) {
	data := filepath.Join(dir, "certstatus-data")
	env := []string{"CERTSTATUS_DATA=" + data, "CERTSTATUS_LOG_LEVEL=warn"}
	port, err := freePort()
	if err != nil {
		return server{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	apiPort, err := freePort()
	if err != nil {
		return server{}, err
	}
	api := fmt.Sprintf("127.0.0.1:%d", apiPort)
	argv := []string{bin, "serve", "--api-addr", api, "--ocsp-addr", addr}
	probe := func(base string) error { return probeOCSP(base, fx, ocsp.Good) }
	// First start: creates the data directory, master key and dev CA.
	stop, err := startPinned("0-1", env, func(string) error {
		_, err := os.Stat(filepath.Join(data, "admin-accesskey.json"))
		return err
	}, "", argv...)
	if err != nil {
		return server{}, err
	}
	stop()
	t := time.Now()
	imp := exec.Command(bin, "import", "openssl-index", "--index", fx.index, "--ca-cert", fx.caPEM, "--ca-key", fx.caKeyPEM, "--certs", fx.certsDir, "--batch", "5000")
	imp.Env = append(os.Environ(), env...)
	if out, err := imp.CombinedOutput(); err != nil {
		return server{}, fmt.Errorf("import: %v\n%s", err, out)
	}
	log.Printf("certstatus: imported %d certificates in %s (%.0f certificates/s)", len(fx.leaves), time.Since(t).Round(time.Millisecond), float64(len(fx.leaves))/time.Since(t).Seconds())
	if fi, err := os.Stat(filepath.Join(data, "certstatus.db")); err == nil {
		log.Printf("certstatus: database %.1f MiB, %.0f bytes per certificate", float64(fi.Size())/(1<<20), float64(fi.Size())/float64(len(fx.leaves)))
	}
	startWith := func(cpu string, extra ...string) (string, func(), error) {
		base := "http://" + addr
		t0 := time.Now()
		stop, err := startPinned(cpu, env, probe, base, append(slices.Clone(argv), extra...)...)
		if err != nil {
			return base, stop, err
		}
		log.Printf("certstatus: ready (a correct OCSP answer) %s after start", time.Since(t0).Round(time.Millisecond))
		return base, func() { logMemory("certstatus", "http://"+api+"/metrics", serverPID[base]); stop() }, nil
	}
	return server{name: "certstatus", nonces: true, startWith: startWith, metrics: "http://" + api + "/metrics", imported: time.Now(),
		start: func(cpu string) (string, func(), error) { return startWith(cpu, args...) }}, nil
}

// fixedAnswerFrom is a server pinned like the others that answers every
// request with one certstatus response: "ceiling", a bare net/http server,
// the most a net/http server that reads pre-signed bytes can do on this
// core; "rawloop", a raw TCP loop doing one read and one write per
// request, the physical limit of the core, for throughput and tail alike.
func fixedAnswerFrom(cs server, fx *fixture, name, mode string) server {
	return server{name: name, start: func(cpu string) (string, func(), error) {
		base, stop, err := cs.start("0-1")
		if err != nil {
			return "", nil, err
		}
		der, _ := ocspRequest(fx.ca, fx.leaves[0].cert.SerialNumber)
		resp, err := http.Post(base, "application/ocsp-request", bytes.NewReader(der))
		if err != nil {
			stop()
			return "", nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		stop()
		bodyFile := filepath.Join(fx.dir, "ceiling.der")
		if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
			return "", nil, err
		}
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		self, _ := os.Executable()
		base = fmt.Sprintf("http://127.0.0.1:%d", port)
		stop, err = startPinned(cpu, nil, func(b string) error { return probeOCSP(b, fx, -1) }, base, self, mode, fmt.Sprintf("127.0.0.1:%d", port), bodyFile)
		return base, stop, err
	}}
}

// rawLoopServer answers each read on a connection with one write of a
// fixed HTTP response: no parsing, no headers beyond the length. It
// assumes a read holds one whole request, as wrk writes them.
func rawLoopServer(addr, bodyFile string) {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		log.Fatal(err)
	}
	resp := append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: %d\r\n\r\n", len(body))), body...)
	serveConns(addr, func(c net.Conn, buf []byte) {
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	})
}

// serveConns listens on addr and runs fn on each connection, in a
// goroutine of its own, with a 16 KiB read buffer; it closes the
// connection when fn returns.
func serveConns(addr string, fn func(c net.Conn, buf []byte)) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			fn(c, make([]byte, 16<<10))
		}()
	}
}

func ceilingServer(addr, bodyFile string) {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		log.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(addr, h))
}

func findCFSSL(dir, prebuilt string) (string, error) {
	if prebuilt != "" {
		return prebuilt, nil
	}
	if p, err := exec.LookPath("cfssl"); err == nil {
		return p, nil
	}
	bin := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "install", "github.com/cloudflare/cfssl/cmd/cfssl@v1.6.5")
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install cfssl@v1.6.5 (needs gcc): %w", err)
	}
	return filepath.Join(bin, "cfssl"), nil
}

// prepareCFSSL pre-signs every fixture certificate with cfssl's own OCSP
// signer (the code behind "cfssl ocspsign"; its day-granular revocation
// date is kept) into a responses file for "cfssl ocspserve".
func prepareCFSSL(dir, bin string, fx *fixture, logLevel int) (server, error) {
	signer, err := cfocsp.NewSigner(fx.ca, fx.ca, fx.caKey, 96*time.Hour)
	if err != nil {
		return server{}, err
	}
	var file bytes.Buffer
	t := time.Now()
	for _, l := range fx.leaves {
		req := cfocsp.SignRequest{Certificate: l.cert, Status: "good"}
		if l.revoked {
			day := l.at.Truncate(24 * time.Hour)
			req.Status, req.Reason, req.RevokedAt = "revoked", ocsp.KeyCompromise, day
		}
		der, err := signer.Sign(req)
		if err != nil {
			return server{}, err
		}
		file.WriteString(base64.StdEncoding.EncodeToString(der))
		file.WriteByte('\n')
	}
	responses := filepath.Join(dir, "cfssl-responses")
	if err := os.WriteFile(responses, file.Bytes(), 0o600); err != nil {
		return server{}, err
	}
	log.Printf("cfssl: pre-signed %d responses in %s", len(fx.leaves), time.Since(t).Round(time.Millisecond))
	return server{name: "cfssl", start: func(cpu string) (string, func(), error) {
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		stop, err := startPinned(cpu, nil, func(b string) error { return probeOCSP(b, fx, ocsp.Good) }, base,
			bin, "ocspserve", "-address", "127.0.0.1", "-port", strconv.Itoa(port), "-responses", responses, "-loglevel", strconv.Itoa(logLevel))
		return base, stop, err
	}}, nil
}

// prepareOpenSSL serves the fixture's index with "openssl ocsp", which
// signs every answer. A fresh process per run: OpenSSL 3.0's responder
// spins after a connection closed without a request.
func prepareOpenSSL(fx *fixture, loadCPU string) server {
	return server{name: "openssl", nonces: true, start: func(cpu string) (string, func(), error) {
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		// The probe must send a full request: a bare TCP connect wedges it.
		stop, err := startPinned(cpu, nil, func(b string) error { return probeOCSP(b, fx, ocsp.Good) }, base,
			"openssl", "ocsp", "-index", fx.index, "-port", strconv.Itoa(port), "-rsigner", fx.caPEM, "-rkey", fx.caKeyPEM, "-CA", fx.caPEM, "-ignore_err", "-nmin", "60")
		if err != nil {
			return "", nil, err
		}
		// wrk opens (and closes) one connection before its run, which
		// wedges OpenSSL 3.0's responder for good. A proxy on the load
		// generator's core drops connections that send nothing and
		// passes the rest through.
		pport, err := freePort()
		if err != nil {
			stop()
			return "", nil, err
		}
		self, _ := os.Executable()
		pbase := fmt.Sprintf("http://127.0.0.1:%d", pport)
		pstop, err := startPinned(loadCPU, nil, func(b string) error { return probeOCSP(b, fx, ocsp.Good) }, pbase,
			self, "lazy-proxy", fmt.Sprintf("127.0.0.1:%d", pport), fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			stop()
			return "", nil, err
		}
		serverPID[pbase] = serverPID[base]
		return pbase, func() { pstop(); stop() }, nil
	}}
}

// lazyProxy forwards connections from listen to target, dialling target
// only once the client has sent something.
func lazyProxy(listen, target string) {
	serveConns(listen, func(c net.Conn, buf []byte) {
		n, _ := c.Read(buf)
		if n == 0 {
			return
		}
		t, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer t.Close()
		if _, err := t.Write(buf[:n]); err != nil {
			return
		}
		go func() { io.Copy(t, c); t.(*net.TCPConn).CloseWrite() }()
		io.Copy(c, t)
	})
}
