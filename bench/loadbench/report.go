package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

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
