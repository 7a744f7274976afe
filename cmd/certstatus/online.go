package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/acsclient"
	"github.com/certstatus/certstatus/internal/fsutil"
)

// serveInfoFile is where a running serve records how to reach its API, so
// that commands on its data directory can go through it: bbolt lets one
// process hold the file.
const serveInfoFile = "serve.json"

// serveInfo is the content of <data>/serve.json.
type serveInfo struct {
	// API is the URL of the API listener ("http://127.0.0.1:8080").
	API string `json:"api"`
	// PID is serve's process id, for operators.
	PID int `json:"pid"`
}

// writeServeInfo records api in <data>/serve.json; the returned func
// removes it (at a clean stop).
func writeServeInfo(data, api string) (func(), error) {
	p := filepath.Join(data, serveInfoFile)
	b, _ := json.MarshalIndent(serveInfo{API: api, PID: os.Getpid()}, "", "  ")
	if err := fsutil.WriteAtomic(p, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("recording the API address in %s: %w", p, err)
	}
	return func() { os.Remove(p) }, nil
}

// localAddr is how a command on this machine reaches a listener bound to
// a: at the loopback address when it listens on every interface.
func localAddr(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil || !ap.Addr().IsUnspecified() {
		return a.String()
	}
	lo := netip.MustParseAddr("127.0.0.1")
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		lo = netip.IPv6Loopback()
	}
	return netip.AddrPortFrom(lo, ap.Port()).String()
}

// onlineClient is a client of the server holding data: its address from
// <data>/serve.json, signed with the admin AccessKey of the directory and
// trusting <data>/api-tls-ca.pem for https.
func onlineClient(data string) (*acsclient.Client, error) {
	p := filepath.Join(data, serveInfoFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("the server holding it did not record its API address (%v): stop it, or use certstatus api --server URL", err)
	}
	var si serveInfo
	if err := json.Unmarshal(b, &si); err != nil || si.API == "" {
		return nil, fmt.Errorf("%s is not a serve record: stop the server, or use certstatus api --server URL", p)
	}
	id, secret, err := readAccessKeyFile(filepath.Join(data, AdminKeyFile))
	if err != nil {
		return nil, err
	}
	pool, err := apiTrust("", data)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return &acsclient.Client{Endpoint: si.API, AccessKeyID: id, Secret: secret, Version: apiVersion, HTTP: hc}, nil
}

// runOffline parses args with fs, resolves the configuration, opens the
// data directory and calls run with the positional arguments. When a
// server holds the directory, the command runs inside it instead, through
// its API (remote.go), for the commands that may; inside serve (e.svc
// set) run gets serve's own service.
func runOffline(e *cmdEnv, fs *flag.FlagSet, cfg *Config, resolve func(func(string) string) error, args []string, run func(*service, []string) error) error {
	return runOfflineOr(e, fs, cfg, resolve, args, run, nil)
}

// runOfflineOr is runOffline with a command's own way through the server
// (online), used instead of running its command line there.
func runOfflineOr(e *cmdEnv, fs *flag.FlagSet, cfg *Config, resolve func(func(string) string) error, args []string,
	run func(*service, []string) error, online func(context.Context, *acsclient.Client, []string) error) error {
	pos, help, err := parse(fs, args)
	if help || err != nil {
		return err
	}
	if err := resolve(e.getenv); err != nil {
		return err
	}
	if e.svc != nil {
		return run(e.svc, pos) // inside serve, on a caller's behalf
	}
	s, err := openOffline(e, cfg)
	if errors.Is(err, db.ErrLocked) {
		c, cerr := onlineClient(cfg.Data)
		if cerr != nil {
			return fmt.Errorf("%w; going through the server instead failed: %v", err, cerr)
		}
		if online != nil {
			return online(context.Background(), c, pos)
		}
		if _, ok := remoteAllowed(e.argv); !ok {
			return err
		}
		return runRemote(context.Background(), e, c, e.argv)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	return run(s, pos)
}
