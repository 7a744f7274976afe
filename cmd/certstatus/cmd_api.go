package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certstatus/certstatus/internal/acsclient"
)

// apiVersion is the version of the JSON API certstatus serves.
const apiVersion = "2020-06-30"

// runAPI is `certstatus api <Action> [--Param value …]`: one call of the
// JSON API, signed with an AccessKey, its JSON answer printed — the shape
// of the aliyun CLI, with certstatus's defaults for endpoint, TLS trust and
// key. Arguments "--Name" whose name starts with an upper-case letter are
// the action's parameters; lower-case flags are this command's.
func runAPI(ctx context.Context, e *cmdEnv, args []string) error {
	return runLeaf(ctx, e, "api", args)
}

// bindAPI binds the flags of api and returns what runs it.
func bindAPI(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	data := fs.String("data", envOr(e, "CERTSTATUS_DATA", "./data"), "data directory holding admin-accesskey.json and api-tls-ca.pem")
	server := fs.String("server", envOr(e, "CERTSTATUS_SERVER", "http://127.0.0.1:8080"), "the API's URL (https://… for a TLS listener)")
	keyFile := fs.String("access-key-file", "", "JSON file with AccessKeyId and AccessKeySecret (default <data>/admin-accesskey.json)")
	caFile := fs.String("ca-file", "", "PEM bundle that verifies an https server (default <data>/api-tls-ca.pem when it exists)")
	sigVersion := fs.String("signature", "v3", "signature version: v3 (ACS3-HMAC-SHA256) or v1 (HMAC-SHA1)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	return func(args []string) error {
		ownArgs, params, err := splitAPIArgs(args)
		if err != nil {
			return err
		}
		pos, help, err := parse(fs, ownArgs)
		if help || err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageErr("api needs exactly one action, e.g. certstatus api DescribeClientCertificateStatus --Identifier <id> (got %d arguments)", len(pos))
		}
		if *sigVersion != "v3" && *sigVersion != "v1" {
			return usageErr("--signature %q: want v3 or v1", *sigVersion)
		}
		if *keyFile == "" {
			*keyFile = filepath.Join(*data, AdminKeyFile)
		}
		id, secret, err := readAccessKeyFile(*keyFile)
		if err != nil {
			return err
		}
		hc := &http.Client{Timeout: *timeout}
		if strings.HasPrefix(*server, "https://") {
			pool, err := apiTrust(*caFile, *data)
			if err != nil {
				return err
			}
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		c := &acsclient.Client{Endpoint: *server, AccessKeyID: id, Secret: secret, Version: apiVersion, V1: *sigVersion == "v1", HTTP: hc}
		out, err := c.Call(ctx, pos[0], params)
		var ae *acsclient.Error
		if errors.As(err, &ae) {
			body, _ := json.MarshalIndent(map[string]any{"Code": ae.Code, "Message": ae.Message, "RequestId": ae.RequestID, "HTTPStatus": ae.Status}, "", "  ")
			fmt.Fprintln(e.stdout, string(body))
			return fmt.Errorf("%s: %s: %s", pos[0], ae.Code, ae.Message)
		}
		if err != nil {
			return fmt.Errorf("%w (is certstatus serving at %s? --server sets another URL)", err, *server)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, out, "", "  "); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, pretty.String())
		return nil
	}
}

// splitAPIArgs separates the action's parameters ("--Name value" or
// "--Name=value", Name starting with an upper-case letter) from the
// command's own flags and positional arguments.
func splitAPIArgs(args []string) (own []string, params map[string]string, err error) {
	params = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, ok := strings.CutPrefix(a, "--")
		if !ok || name == "" || name[0] < 'A' || name[0] > 'Z' {
			own = append(own, a)
			continue
		}
		value, hasValue := "", false
		if n, v, found := strings.Cut(name, "="); found {
			name, value, hasValue = n, v, true
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, usageErr("parameter --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if _, dup := params[name]; dup {
			return nil, nil, usageErr("parameter --%s given twice", name)
		}
		params[name] = value
	}
	return own, params, nil
}

// readAccessKeyFile reads {"AccessKeyId": …, "AccessKeySecret": …}.
func readAccessKeyFile(path string) (string, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("no AccessKey file at %s: give --access-key-file, or --data pointing at the data directory of a server that bootstrapped one", path)
	}
	if err != nil {
		return "", "", err
	}
	var k struct{ AccessKeyId, AccessKeySecret string }
	if err := json.Unmarshal(b, &k); err != nil || k.AccessKeyId == "" || k.AccessKeySecret == "" {
		return "", "", fmt.Errorf("%s: want a JSON object with AccessKeyId and AccessKeySecret", path)
	}
	return k.AccessKeyId, k.AccessKeySecret, nil
}

// apiTrust is the pool that verifies an https API: --ca-file, else the
// bundle serve writes to <data>/api-tls-ca.pem, else the system roots.
func apiTrust(caFile, data string) (*x509.CertPool, error) {
	if caFile == "" {
		p := filepath.Join(data, "api-tls-ca.pem")
		if _, err := os.Stat(p); err != nil {
			return nil, nil // the system roots
		}
		caFile = p
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", caFile)
	}
	return pool, nil
}

// envOr is the environment variable name, or def.
func envOr(e *cmdEnv, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}
