// Command loadbench measures the certstatus OCSP responder side by side
// with cfssl ocspserve, openssl ocsp, a bare net/http server that answers
// one fixed response (the ceiling for serving pre-signed bytes) and a raw
// TCP loop writing the same bytes once per read (the physical limit, for
// throughput and tail latency).
//
// Every server answers for the same fixture CA and certificates, is pinned
// to one core (-server-cpu) and loaded by wrk pinned to another
// (-load-cpu), with keep-alive and a Lua script that cycles through real
// OCSP requests for good, revoked and unknown certificates. It prints one
// markdown table of req/s and p50/p99 latency (medians of -runs runs) and
// the ratios issue 6 asks for. Run it with "make loadbench"; it needs wrk,
// openssl, taskset and Go (it builds certstatus and cfssl v1.6.5).
//
// Fixtures live in a temporary directory (-keep keeps it) and are never
// committed.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cfocsp "github.com/cloudflare/cfssl/ocsp"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/parallel"
)

type config struct {
	certs       int
	duration    time.Duration
	runs        int
	serverCPU   string
	loadCPU     string
	keep        bool
	only        string
	certstatus  string // prebuilt binary; empty builds one
	csArgs      string // extra arguments of every measured certstatus serve
	cfssl       string // prebuilt binary; empty looks on PATH, then builds
	sampleSize  int
	connections []int
	cfsslLog    int
	refresh     bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("loadbench: ")
	// Re-executed modes, run pinned by taskset.
	if len(os.Args) > 1 && os.Args[1] == "rawloop-server" {
		rawLoopServer(os.Args[2], os.Args[3])
	}
	if len(os.Args) > 1 && os.Args[1] == "ceiling-server" {
		ceilingServer(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "lazy-proxy" {
		lazyProxy(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "sign-rate" {
		signRate()
		return
	}
	var c config
	var conns string
	flag.IntVar(&c.certs, "certs", 10000, "certificates in the fixture database")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of one wrk run")
	flag.IntVar(&c.runs, "runs", 3, "runs per cell; the table shows medians")
	flag.StringVar(&c.serverCPU, "server-cpu", "0", "core(s) the server is pinned to (taskset -c)")
	flag.StringVar(&c.loadCPU, "load-cpu", "1", "core(s) wrk is pinned to (taskset -c)")
	flag.BoolVar(&c.keep, "keep", false, "keep the fixture directory")
	flag.StringVar(&c.only, "only", "", "comma-separated servers to run (rawloop,ceiling,certstatus,cfssl,openssl); empty runs all")
	flag.StringVar(&c.certstatus, "certstatus-bin", "", "certstatus binary to measure (default: go build ./cmd/certstatus)")
	flag.StringVar(&c.csArgs, "certstatus-args", "", "extra arguments for every measured certstatus serve, space-separated (e.g. \"--ocsp-answer-cache 0\")")
	flag.StringVar(&c.cfssl, "cfssl-bin", "", "cfssl binary (default: PATH, else go install cfssl@v1.6.5)")
	flag.IntVar(&c.sampleSize, "requests", 300, "distinct OCSP requests the wrk script cycles through")
	flag.StringVar(&conns, "conns", "16,64", "wrk connection counts")
	flag.BoolVar(&c.refresh, "refresh", false, "then measure certstatus during a background refresh pass of every pre-signed answer (serve --ocsp-refresh-after 1m), POST with the first -conns value, against runs without a pass")
	flag.IntVar(&c.cfsslLog, "cfssl-loglevel", 1, "cfssl ocspserve -loglevel (1, info, is its default and logs every request; 5 silences it)")
	flag.Parse()
	for _, s := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("-conns %q: want comma-separated positive numbers", conns)
		}
		c.connections = append(c.connections, n)
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

func run(c config) error {
	for _, tool := range []string{"wrk", "openssl", "taskset", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: install it (Debian: apt-get install wrk openssl util-linux golang)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "certstatus-loadbench-")
	if err != nil {
		return err
	}
	if c.keep {
		log.Printf("fixtures in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	started := time.Now()
	fx, err := makeFixture(dir, c.certs)
	if err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	log.Printf("fixture: %d certificates (every 10th revoked) in %s", c.certs, time.Since(started).Round(time.Millisecond))

	var servers []server
	want := func(name string) bool { return c.only == "" || strings.Contains(","+c.only+",", ","+name+",") }
	if want("certstatus") || want("ceiling") || want("rawloop") {
		bin, err := buildCertstatus(dir, c.certstatus)
		if err != nil {
			return err
		}
		cs, err := prepareCertstatus(dir, bin, fx, strings.Fields(c.csArgs))
		if err != nil {
			return fmt.Errorf("certstatus: %w", err)
		}
		if want("rawloop") {
			servers = append(servers, fixedAnswerFrom(cs, fx, "rawloop", "rawloop-server"))
		}
		if want("ceiling") {
			servers = append(servers, fixedAnswerFrom(cs, fx, "ceiling", "ceiling-server"))
		}
		if want("certstatus") {
			servers = append(servers, cs)
		}
	}
	if want("cfssl") {
		bin, err := findCFSSL(dir, c.cfssl)
		if err != nil {
			return err
		}
		cf, err := prepareCFSSL(dir, bin, fx, c.cfsslLog)
		if err != nil {
			return fmt.Errorf("cfssl: %w", err)
		}
		servers = append(servers, cf)
	}
	if want("openssl") {
		servers = append(servers, prepareOpenSSL(fx, c.loadCPU))
	}

	reqs, err := buildRequests(fx, c.sampleSize)
	if err != nil {
		return err
	}
	scripts, err := writeScripts(dir, reqs, fx.ca)
	if err != nil {
		return err
	}

	var results []result
	for _, s := range servers {
		for _, m := range modes(c.connections) {
			if m.nonce && !s.nonces {
				continue
			}
			var runs []wrkResult
			for i := 0; i < c.runs; i++ {
				r, err := measure(c, s, m, scripts, reqs)
				if err != nil {
					return fmt.Errorf("%s %s: %w", s.name, m, err)
				}
				log.Printf("%-10s %-14s run %d: %8.0f req/s  p50 %v  p99 %v  server busy %.0f%%, %v CPU/req  errors %d", s.name, m, i+1, r.rps, r.p50, r.p99, 100*r.busy, r.cpuPerReq.Round(100*time.Nanosecond), r.errors)
				runs = append(runs, r)
			}
			results = append(results, result{server: s.name, mode: m, wrk: median(runs)})
		}
	}
	rate, err := measureSignRate(c.serverCPU)
	if err != nil {
		return err
	}
	printReport(os.Stdout, c, results, rate)
	if c.refresh {
		for _, s := range servers {
			if s.startWith != nil {
				return measureRefresh(c, s, scripts, reqs)
			}
		}
		return errors.New("-refresh needs certstatus among the servers")
	}
	return nil
}

// --- fixture ---------------------------------------------------------------

type leaf struct {
	cert    *x509.Certificate
	revoked bool
	at      time.Time
}

type fixture struct {
	dir             string
	ca              *x509.Certificate
	caKey           *ecdsa.PrivateKey
	caPEM, caKeyPEM string // file paths
	index           string
	certsDir        string
	leaves          []leaf
}

func makeFixture(dir string, n int) (*fixture, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"loadbench"}, CommonName: "loadbench CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(der)
	fx := &fixture{dir: dir, ca: ca, caKey: key, caPEM: filepath.Join(dir, "ca.pem"), caKeyPEM: filepath.Join(dir, "ca.key"),
		index: filepath.Join(dir, "index.txt"), certsDir: filepath.Join(dir, "newcerts")}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writePEM(fx.caPEM, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	if err := writePEM(fx.caKeyPEM, "PRIVATE KEY", pkcs8); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(fx.certsDir, 0o700); err != nil {
		return nil, err
	}
	// One leaf key for all: the fixture measures status answers, not keys.
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// Leaves are signed on every core (a million take minutes on one);
	// the index lists them in order.
	fx.leaves = make([]leaf, n)
	lines := make([]string, n)
	var firstErr error
	var errOnce sync.Once
	parallel.For(n, func(i int) {
		if err := makeLeaf(fx, i, now, ca, key, leafKey, lines); err != nil {
			errOnce.Do(func() { firstErr = err })
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	var index bytes.Buffer
	for _, l := range lines {
		index.WriteString(l)
	}
	if err := os.WriteFile(fx.index, index.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return fx, os.WriteFile(fx.index+".attr", []byte("unique_subject = no\n"), 0o600)
}

// makeLeaf signs leaf i, writes its PEM file and its index line.
func makeLeaf(fx *fixture, i int, now time.Time, ca *x509.Certificate, key, leafKey *ecdsa.PrivateKey, lines []string) error {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	serial.SetBit(serial, 126, 1) // fixed length: no leading-zero surprises in file names
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: fmt.Sprintf("client-%d", i)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 3, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, t, ca, leafKey.Public(), key)
	if err != nil {
		return err
	}
	cert, _ := x509.ParseCertificate(der)
	l := leaf{cert: cert}
	hexSerial := strings.ToUpper(serial.Text(16))
	if err := writePEM(filepath.Join(fx.certsDir, hexSerial+".pem"), "CERTIFICATE", der); err != nil {
		return err
	}
	exp := cert.NotAfter.UTC().Format("060102150405Z")
	if i%10 == 5 {
		l.revoked, l.at = true, now.Add(-10*time.Minute)
		lines[i] = fmt.Sprintf("R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=client-%d\n", exp, l.at.Format("060102150405Z"), hexSerial, i)
	} else {
		lines[i] = fmt.Sprintf("V\t%s\t\t%s\tunknown\t/CN=client-%d\n", exp, hexSerial, i)
	}
	fx.leaves[i] = l
	return nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// --- requests and wrk scripts ---------------------------------------------

type request struct {
	der  []byte
	want int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
}

// buildRequests samples good and revoked leaves and adds unknown serials,
// in proportion 8:1:1.
func buildRequests(fx *fixture, n int) ([]request, error) {
	var out []request
	add := func(serial *big.Int, want int) error {
		der, err := ocspRequest(fx.ca, serial)
		if err != nil {
			return err
		}
		out = append(out, request{der, want})
		return nil
	}
	for _, l := range fx.leaves {
		if len(out) >= n*9/10 {
			break
		}
		want := ocsp.Good
		if l.revoked {
			want = ocsp.Revoked
		}
		if err := add(l.cert.SerialNumber, want); err != nil {
			return nil, err
		}
	}
	for len(out) < n {
		s, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err := add(s.SetBit(s, 126, 1), ocsp.Unknown); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ocspRequest builds a SHA-1 CertID request for serial, as openssl ocsp
// and most clients send it.
func ocspRequest(issuer *x509.Certificate, serial *big.Int) ([]byte, error) {
	fake := &x509.Certificate{SerialNumber: serial}
	return ocsp.CreateRequest(fake, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
}

// withNonce adds an RFC 9654 nonce extension (32 random bytes) to req by
// re-encoding it; x/crypto/ocsp cannot write request extensions. It also
// returns the extension's value, which the response must echo.
func withNonce(der []byte) (req, value []byte) {
	// OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest }
	// TBSRequest ::= SEQUENCE { requestList, [2] EXPLICIT Extensions }
	nonce := make([]byte, 32)
	rand.Read(nonce)
	octet := append([]byte{0x04, byte(len(nonce))}, nonce...)
	extnValue := append([]byte{0x04, byte(len(octet))}, octet...)
	oid := []byte{0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02}
	ext := tlv(0x30, append(oid, extnValue...))
	exts := tlv(0xa2, tlv(0x30, ext))
	outer := readTLV(der)
	tbs := readTLV(outer)
	return tlv(0x30, tlv(0x30, append(append([]byte{}, tbs...), exts...))), octet
}

func tlv(tag byte, body []byte) []byte {
	n := len(body)
	var hdr []byte
	switch {
	case n < 0x80:
		hdr = []byte{tag, byte(n)}
	case n < 0x100:
		hdr = []byte{tag, 0x81, byte(n)}
	default:
		hdr = []byte{tag, 0x82, byte(n >> 8), byte(n)}
	}
	return append(hdr, body...)
}

// readTLV returns the contents of the DER element at the start of b.
func readTLV(b []byte) []byte {
	l := int(b[1])
	off := 2
	if l&0x80 != 0 {
		k := l & 0x7f
		l = 0
		for i := 0; i < k; i++ {
			l = l<<8 | int(b[2+i])
		}
		off += k
	}
	return b[off : off+l]
}

type scripts struct {
	post, get, nonce string
	ca               *x509.Certificate // verifies the answers
}

func writeScripts(dir string, reqs []request, ca *x509.Certificate) (scripts, error) {
	var post, get, nonce []string
	for _, r := range reqs {
		post = append(post, luaString(r.der))
		withN, _ := withNonce(r.der)
		nonce = append(nonce, luaString(withN))
		get = append(get, luaString([]byte("/"+url.PathEscape(base64.StdEncoding.EncodeToString(r.der)))))
	}
	s := scripts{post: filepath.Join(dir, "post.lua"), get: filepath.Join(dir, "get.lua"), nonce: filepath.Join(dir, "nonce.lua"), ca: ca}
	// Every request is formatted once, in init: formatting in request() costs
	// wrk's core more Lua time than the fastest server spends answering.
	// The second %s is the Lua expression that formats item x.
	lua := `local items = {%s}
local built = {}
local i = 0
init = function(args)
  for k, x in ipairs(items) do
    built[k] = %s
  end
end
request = function()
  i = i %% #built + 1
  return built[i]
end
`
	postFormat := `wrk.format("POST", "/", {["Content-Type"] = "application/ocsp-request"}, x)`
	getFormat := `wrk.format("GET", x)`
	for path, body := range map[string]string{
		s.post:  fmt.Sprintf(lua, strings.Join(post, ",\n"), postFormat),
		s.nonce: fmt.Sprintf(lua, strings.Join(nonce, ",\n"), postFormat),
		s.get:   fmt.Sprintf(lua, strings.Join(get, ",\n"), getFormat),
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return s, err
		}
	}
	return s, nil
}

func luaString(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		fmt.Fprintf(&sb, "\\%d", c)
	}
	sb.WriteByte('"')
	return sb.String()
}

// --- servers ---------------------------------------------------------------

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

// probeOCSP asks base about the first leaf and checks the answer (want -1
// accepts any parseable response).
func probeOCSP(base string, fx *fixture, want int) error {
	der, err := ocspRequest(fx.ca, fx.leaves[0].cert.SerialNumber)
	if err != nil {
		return err
	}
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Post(base, "application/ocsp-request", bytes.NewReader(der))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	r, err := ocsp.ParseResponse(body, fx.ca)
	if err != nil {
		return err
	}
	if want >= 0 && r.Status != want {
		return fmt.Errorf("status %d, want %d", r.Status, want)
	}
	return nil
}

// verify sends every request of the script once and counts the answers
// that are not what the fixture says (an error, another status), so that a
// fast wrong server cannot win unnoticed. cfssl's "unauthorized" for a
// serial it never signed counts as a right answer for an unknown one.
func verify(base string, m mode, reqs []request, ca *x509.Certificate, name string) (wrong int, first error) {
	client := http.Client{Timeout: 5 * time.Second}
	fail := func(i int, err error) {
		wrong++
		if first == nil {
			first = fmt.Errorf("request %d: %w", i, err)
		}
	}
	for i, r := range reqs {
		var resp *http.Response
		var err error
		body, nonce := r.der, []byte(nil)
		if m.nonce {
			body, nonce = withNonce(r.der)
		}
		if m.method == "GET" {
			resp, err = client.Get(base + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(r.der)))
		} else {
			resp, err = client.Post(base, "application/ocsp-request", bytes.NewReader(body))
		}
		if err != nil {
			fail(i, err)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if name == "ceiling" || name == "rawloop" {
			continue // one fixed answer by design
		}
		parsed, err := ocsp.ParseResponse(raw, ca)
		var re ocsp.ResponseError
		switch {
		case r.want == ocsp.Unknown && errors.As(err, &re):
		case err != nil:
			fail(i, err)
		case parsed.Status != r.want:
			fail(i, fmt.Errorf("status %d, want %d", parsed.Status, r.want))
		case nonce != nil && !echoes(raw, nonce):
			fail(i, errors.New("nonce not echoed"))
		}
	}
	return wrong, first
}

var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

// echoes reports whether the OCSP response der carries, in its
// responseExtensions, the nonce extension value sent. (x/crypto/ocsp
// exposes only singleExtensions.)
func echoes(der, value []byte) bool {
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0,optional"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return false
	}
	var basic struct {
		TBS  asn1.RawValue
		Rest []asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		return false
	}
	// ResponseData: version [0]?, responderID ([1] byName | [2] byKey),
	// producedAt, responses, responseExtensions [1]? — the [1] that
	// matters is the one after producedAt.
	rest := basic.TBS.Bytes
	afterProduced := false
	for len(rest) > 0 {
		var el asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &el); err != nil {
			return false
		}
		if el.Class == asn1.ClassUniversal && el.Tag == asn1.TagGeneralizedTime {
			afterProduced = true
			continue
		}
		if !afterProduced || el.Class != asn1.ClassContextSpecific || el.Tag != 1 {
			continue
		}
		var exts []pkix.Extension
		if _, err := asn1.Unmarshal(el.Bytes, &exts); err != nil {
			return false
		}
		for _, e := range exts {
			if e.Id.Equal(oidNonce) {
				return bytes.Equal(e.Value, value)
			}
		}
	}
	return false
}

// --- measurement -----------------------------------------------------------

type mode struct {
	method string
	conns  int
	nonce  bool
}

func (m mode) String() string {
	s := fmt.Sprintf("%s %d conns", m.method, m.conns)
	if m.nonce {
		s = "nonce " + s
	}
	return s
}

func modes(conns []int) []mode {
	var out []mode
	for _, method := range []string{"POST", "GET"} {
		for _, c := range conns {
			out = append(out, mode{method: method, conns: c})
		}
	}
	return append(out, mode{method: "POST", conns: conns[0], nonce: true})
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTicks = 100

// cpuTicks returns the user+system CPU time of pid in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return u + st, nil
}

type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int // non-2xx and socket errors during the run
	wrong    int // wrong answers among the script's requests, checked before the run
	// busy is the server's CPU time over the run's wall time (1 = its
	// core saturated); cpuPerReq its CPU time per answered request.
	busy      float64
	cpuPerReq time.Duration
}

type result struct {
	server string
	mode   mode
	wrk    wrkResult
}

func measure(c config, s server, m mode, sc scripts, reqs []request) (wrkResult, error) {
	base, stop, err := s.start(c.serverCPU)
	if err != nil {
		return wrkResult{}, err
	}
	defer stop()
	wrong, first := verify(base, m, reqs, sc.ca, s.name)
	if wrong > len(reqs)/20 {
		return wrkResult{}, fmt.Errorf("%d of %d answers wrong before the run: %w", wrong, len(reqs), first)
	}
	if wrong > 0 {
		log.Printf("%s %s: %d of %d answers wrong (%v)", s.name, m, wrong, len(reqs), first)
	}
	r, err := runWrk(c, base, m, sc)
	r.wrong = wrong
	return r, err
}

// runWrk loads a started server for c.duration and reads its CPU time.
func runWrk(c config, base string, m mode, sc scripts) (wrkResult, error) {
	script := sc.post
	switch {
	case m.nonce:
		script = sc.nonce
	case m.method == "GET":
		script = sc.get
	}
	before, cpuErr := cpuTicks(serverPID[base])
	ctx, cancel := context.WithTimeout(context.Background(), c.duration+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "taskset", "-c", c.loadCPU, "wrk", "-t1", fmt.Sprintf("-c%d", m.conns),
		fmt.Sprintf("-d%ds", int(c.duration.Seconds())), "--latency", "-s", script, base).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	after, cpuErr2 := cpuTicks(serverPID[base])
	r, err := parseWrk(string(out))
	if cpuErr == nil && cpuErr2 == nil && r.rps > 0 {
		secs := c.duration.Seconds()
		r.busy = float64(after-before) / clockTicks / secs
		r.cpuPerReq = time.Duration(float64(after-before) / clockTicks / (r.rps * secs) * float64(time.Second))
	}
	return r, err
}

var (
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	latRe    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	sockRe   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := rpsRe.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range latRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[l[3]]
		d := time.Duration(math.Round(v * float64(unit)))
		if l[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := non2xxRe.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.errors += n
	}
	if m := sockRe.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
	}
	return r, nil
}

// median takes each figure's median separately across runs.
func median(rs []wrkResult) wrkResult {
	return wrkResult{
		rps:       mid(rs, func(r wrkResult) float64 { return r.rps }),
		p50:       mid(rs, func(r wrkResult) time.Duration { return r.p50 }),
		p99:       mid(rs, func(r wrkResult) time.Duration { return r.p99 }),
		busy:      mid(rs, func(r wrkResult) float64 { return r.busy }),
		cpuPerReq: mid(rs, func(r wrkResult) time.Duration { return r.cpuPerReq }),
		errors:    mid(rs, func(r wrkResult) int { return r.errors }),
		wrong:     mid(rs, func(r wrkResult) int { return r.wrong }),
	}
}

// mid returns the median of field over rs.
func mid[T cmp.Ordered](rs []wrkResult, field func(wrkResult) T) T {
	xs := make([]T, len(rs))
	for i, r := range rs {
		xs[i] = field(r)
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// measureSignRate runs the raw ECDSA P-256 signing benchmark pinned to the
// server's core, in this run.
func measureSignRate(cpu string) (float64, error) {
	self, _ := os.Executable()
	out, err := exec.Command("taskset", "-c", cpu, self, "sign-rate").Output()
	if err != nil {
		return 0, fmt.Errorf("sign-rate: %w", err)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

func signRate() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := make([]byte, 32)
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := key.Sign(rand.Reader, digest, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	fmt.Printf("%.0f\n", float64(r.N)/r.T.Seconds())
}

func printReport(w io.Writer, c config, results []result, signRate float64) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "\n## loadbench %s on %s (server on cpu %s, wrk on cpu %s, %d runs of %s, %d certificates; medians)\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, c.serverCPU, c.loadCPU, c.runs, c.duration, c.certs)
	fmt.Fprintln(w, "| server | mode | req/s | p50 | p99 | server core busy | server CPU per request | HTTP/socket errors | wrong answers |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	get := map[string]wrkResult{}
	for _, r := range results {
		get[r.server+"|"+r.mode.String()] = r.wrk
		fmt.Fprintf(w, "| %s | %s | %.0f | %v | %v | %.0f%% | %v | %d | %d of %d |\n", r.server, r.mode, r.wrk.rps, r.wrk.p50, r.wrk.p99,
			100*r.wrk.busy, r.wrk.cpuPerReq.Round(100*time.Nanosecond), r.wrk.errors, r.wrk.wrong, c.sampleSize)
	}
	fmt.Fprintf(w, "\nraw ECDSA P-256 signing on cpu %s: %.0f signatures/s\n\n", c.serverCPU, signRate)
	fmt.Fprintln(w, "| ratio | mode | value | target |")
	fmt.Fprintln(w, "|---|---|---:|---|")
	for _, m := range modes(c.connections) {
		cs, ok := get["certstatus|"+m.String()]
		if !ok {
			continue
		}
		if m.nonce {
			if o, ok := get["openssl|"+m.String()]; ok {
				fmt.Fprintf(w, "| certstatus / openssl ocsp | %s | %.2f× | ≥ 2× |\n", m, cs.rps/o.rps)
			}
			fmt.Fprintf(w, "| certstatus / raw signing | %s | %.0f%% | (reported) |\n", m, 100*cs.rps/signRate)
			continue
		}
		if cf, ok := get["cfssl|"+m.String()]; ok {
			fmt.Fprintf(w, "| certstatus / cfssl ocspserve | %s | %.2f× | ≥ 5× |\n", m, cs.rps/cf.rps)
			fmt.Fprintf(w, "| p99 certstatus vs cfssl | %s | %v vs %v | no worse |\n", m, cs.p99, cf.p99)
		}
		if ce, ok := get["ceiling|"+m.String()]; ok {
			fmt.Fprintf(w, "| certstatus / bare net/http | %s | %.0f%% | ≥ 70%% |\n", m, 100*cs.rps/ce.rps)
			fmt.Fprintf(w, "| p99 certstatus vs bare net/http | %s | %v vs %v | no worse |\n", m, cs.p99, ce.p99)
		}
		if rl, ok := get["rawloop|"+m.String()]; ok {
			fmt.Fprintf(w, "| certstatus / raw TCP loop | %s | %.0f%%, p99 %v vs %v | (reported) |\n", m, 100*cs.rps/rl.rps, cs.p99, rl.p99)
		}
	}
}

// measureRefresh loads certstatus while its background refresh re-signs
// every pre-signed answer (serve --ocsp-refresh-after 1m, once the answers
// are a minute old), in -duration runs until the pass completes, and
// compares the throughput with runs of the same server without a pass.
func measureRefresh(c config, cs server, sc scripts, reqs []request) error {
	m := mode{method: "POST", conns: c.connections[0]}
	var base []wrkResult
	for i := 0; i < c.runs; i++ {
		r, err := measure(c, cs, m, sc, reqs)
		if err != nil {
			return err
		}
		base = append(base, r)
	}
	if wait := time.Until(cs.imported.Add(65 * time.Second)); wait > 0 {
		time.Sleep(wait) // every answer must be older than --ocsp-refresh-after
	}
	t0 := time.Now()
	url, stop, err := cs.startWith(c.serverCPU, append([]string{"--ocsp-refresh-after", "1m"}, strings.Fields(c.csArgs)...)...)
	if err != nil {
		return err
	}
	defer stop()
	var during []wrkResult
	var done float64
	for time.Since(t0) < 2*time.Hour {
		r, err := runWrk(c, url, m, sc)
		if err != nil {
			return err
		}
		met := scrape(cs.metrics, "certstatus_ocsp_refresh_last_success_timestamp_seconds", "certstatus_ocsp_refreshed_total", "certstatus_ocsp_refresh_backlog")
		if done = met["certstatus_ocsp_refresh_last_success_timestamp_seconds"]; done >= float64(t0.Unix()) {
			log.Printf("refresh pass done: %.0f answers re-signed, backlog %.0f", met["certstatus_ocsp_refreshed_total"], met["certstatus_ocsp_refresh_backlog"])
			break // this run straddled the end of the pass
		}
		during = append(during, r)
		log.Printf("certstatus during the refresh pass: %8.0f req/s, %v CPU/req; %.0f answers re-signed so far", r.rps, r.cpuPerReq.Round(100*time.Nanosecond), met["certstatus_ocsp_refreshed_total"])
	}
	if len(during) == 0 {
		return errors.New("the refresh pass ended before a whole run; use more certificates")
	}
	b, d := median(base), median(during)
	fmt.Printf("\n## background refresh (%d certificates)\n\n", c.certs)
	fmt.Printf("| | req/s | p50 | p99 | server CPU per request |\n|---|---:|---:|---:|---:|\n")
	fmt.Printf("| %s, no refresh pass (median of %d) | %.0f | %v | %v | %v |\n", m, len(base), b.rps, b.p50, b.p99, b.cpuPerReq.Round(100*time.Nanosecond))
	fmt.Printf("| %s, during the pass (median of %d) | %.0f | %v | %v | %v |\n", m, len(during), d.rps, d.p50, d.p99, d.cpuPerReq.Round(100*time.Nanosecond))
	fmt.Printf("\nthroughput during the pass: %.0f%% of without (target: a drop of at most 20%%); the pass took %s (served from start to end of the pass)\n",
		100*d.rps/b.rps, (time.Unix(int64(done), 0).Sub(t0)).Round(time.Second))
	return nil
}

// scrape reads gauges and counters from a Prometheus text endpoint.
func scrape(url string, names ...string) map[string]float64 {
	out := map[string]float64{}
	res, err := http.Get(url)
	if err != nil {
		return out
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		for _, n := range names {
			if v, ok := strings.CutPrefix(line, n+" "); ok {
				out[n], _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
			}
		}
	}
	return out
}
