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
	"slices"
	"strings"
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
	// CRLBaseURL is the stored crl_base_url serve runs with, for clients
	// of the directory (crl fetch) that cannot open the held store.
	CRLBaseURL string `json:"crl_base_url"`
}

// writeServeInfo records si in <data>/serve.json; the returned func
// removes it (at a clean stop).
func writeServeInfo(data string, si serveInfo) (func(), error) {
	p := filepath.Join(data, serveInfoFile)
	si.PID = os.Getpid()
	b, _ := json.MarshalIndent(si, "", "  ")
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

// readServeInfo reads <data>/serve.json.
func readServeInfo(data string) (serveInfo, error) {
	p := filepath.Join(data, serveInfoFile)
	var si serveInfo
	b, err := os.ReadFile(p)
	if err != nil {
		return si, fmt.Errorf("the server holding it did not record its API address (%v): stop it, or use certstatus api --server URL", err)
	}
	if err := json.Unmarshal(b, &si); err != nil || si.API == "" {
		return si, fmt.Errorf("%s is not a serve record: stop the server, or use certstatus api --server URL", p)
	}
	return si, nil
}

// onlineClient is a client of the server holding data: its address from
// <data>/serve.json, signed with the admin AccessKey of the directory and
// trusting <data>/api-tls-ca.pem for https.
func onlineClient(data string) (*acsclient.Client, error) {
	si, err := readServeInfo(data)
	if err != nil {
		return nil, err
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

// throughServer runs e's command line in the server that holds data;
// lockErr is the error that said one does, returned with the reason when
// the server cannot be reached.
func throughServer(ctx context.Context, e *cmdEnv, data string, lockErr error) error {
	c, err := onlineClient(data)
	if err != nil {
		return fmt.Errorf("%w; going through the server instead failed: %v", lockErr, err)
	}
	return runRemote(ctx, e, c, e.argv)
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

// serverFlags are the flags that send a management command to a server
// named by URL (on this machine or another) instead of the local data
// directory: --server URL, with --access-key-file F (default
// <data>/admin-accesskey.json) and --ca-file PEM (default
// <data>/api-tls-ca.pem when it exists, else the system roots).
var serverFlags = []string{"server", "access-key-file", "ca-file"}

// splitServerFlags takes serverFlags out of a command line.
func splitServerFlags(args []string) (vals map[string]string, rest []string, err error) {
	vals = map[string]string{}
	for i := 0; i < len(args); i++ {
		name, value, inline, isFlag := flagName(args[i])
		if !isFlag || !slices.Contains(serverFlags, name) {
			rest = append(rest, args[i])
			continue
		}
		if !inline {
			if i+1 >= len(args) {
				return nil, nil, usageErr("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		vals[name] = value
	}
	return vals, rest, nil
}

// runOnServer runs args (a management command line) on the server that
// --server names, if it does; handled is false when no --server was given.
func runOnServer(ctx context.Context, e *cmdEnv, args []string) (handled bool, err error) {
	if len(args) == 0 || args[0] == "api" || !slices.ContainsFunc(args, func(a string) bool {
		n, _, _, ok := flagName(a)
		return ok && n == "server"
	}) {
		return false, nil
	}
	vals, rest, err := splitServerFlags(args)
	if err != nil {
		return true, err
	}
	if len(rest) > 0 && rest[0] == "backup" {
		return true, backupOnServer(ctx, e, vals, rest[1:])
	}
	if _, ok := remoteAllowed(rest); !ok {
		return true, usageErr("--server: %q does not run through a server (ca, cert, accesskey, audit, check, backup and settings show do)", strings.Join(rest[:min(2, len(rest))], " "))
	}
	c, err := serverClient(e, vals)
	if err != nil {
		return true, err
	}
	return true, runRemote(ctx, e, c, rest)
}

// serverClient is the client --server and its companions describe.
func serverClient(e *cmdEnv, vals map[string]string) (*acsclient.Client, error) {
	data := envOr(e, "CERTSTATUS_DATA", "./data")
	keyFile := vals["access-key-file"]
	if keyFile == "" {
		keyFile = filepath.Join(data, AdminKeyFile)
	}
	id, secret, err := readAccessKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	pool, err := apiTrust(vals["ca-file"], data)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return &acsclient.Client{Endpoint: vals["server"], AccessKeyID: id, Secret: secret, Version: apiVersion, HTTP: hc}, nil
}

// backupOnServer is `backup --out FILE --server URL`: the server's copy,
// streamed and checked (backupFromServer).
func backupOnServer(ctx context.Context, e *cmdEnv, vals map[string]string, args []string) error {
	var out string
	for i := 0; i < len(args); i++ {
		name, value, inline, ok := flagName(args[i])
		switch {
		case !ok:
			return usageErr("backup takes no arguments, got %q", args[i])
		case name != "out":
			return usageErr("backup --server takes only --out FILE, got %s", args[i])
		case !inline && i+1 >= len(args):
			return usageErr("--out needs a value")
		case !inline:
			i++
			value = args[i]
		}
		out = value
	}
	if out == "" {
		return usageErr("backup needs --out FILE")
	}
	c, err := serverClient(e, vals)
	if err != nil {
		return err
	}
	n, err := backupFromServer(ctx, c, out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "wrote %s (%d bytes): a consistent copy of the database the server at %s holds, checked\n", out, n, c.Endpoint)
	return err
}
