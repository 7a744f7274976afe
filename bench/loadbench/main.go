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
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
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
