package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
