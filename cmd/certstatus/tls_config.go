package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/certstatus/certstatus/certs"
)

// tlsMode is how the API listener speaks: plain HTTP or TLS with one of two
// certificate sources.
type tlsMode int

const (
	// tlsOff serves plain HTTP.
	tlsOff tlsMode = iota
	// tlsAuto serves a certificate certstatus issues itself from its own
	// CA and renews (tls_auto.go).
	tlsAuto
	// tlsFiles serves the operator's certificate and key files, re-read
	// when they change (tls_files.go).
	tlsFiles
)

// apiTLSConfig is the parsed --api-tls.
type apiTLSConfig struct {
	Mode tlsMode
	// CertFile and KeyFile are the PEM files of tlsFiles.
	CertFile, KeyFile string
	// set is true when --api-tls was given; otherwise finishAPITLS picks
	// the mode from the listen address.
	set bool
}

// parse reads auto, off or CERT,KEY; "" leaves the mode to the address.
func (t *apiTLSConfig) parse(v string) error {
	*t = apiTLSConfig{set: v != ""}
	switch v {
	case "":
	case "auto":
		t.Mode = tlsAuto
	case "off":
		t.Mode = tlsOff
	default:
		cert, key, ok := strings.Cut(v, ",")
		if !ok || strings.TrimSpace(cert) == "" || strings.TrimSpace(key) == "" || strings.Contains(key, ",") {
			return errors.New("want auto, off, or CERT,KEY (a PEM certificate file, which may hold its chain after it, and its PEM key file, comma-separated)")
		}
		t.Mode, t.CertFile, t.KeyFile = tlsFiles, strings.TrimSpace(cert), strings.TrimSpace(key)
	}
	return nil
}

// parseHostList reads comma-separated DNS names and IP addresses (the extra
// names of the auto certificate).
func parseHostList(dst *[]string) func(string) error {
	return func(v string) error {
		*dst = nil
		for h := range strings.SplitSeq(v, ",") {
			if h = strings.TrimSpace(h); h == "" {
				continue
			}
			if net.ParseIP(h) == nil && certs.CheckDNSName(h) != nil {
				return fmt.Errorf("want DNS names or IP addresses, comma-separated; %q is neither", h)
			}
			*dst = append(*dst, strings.ToLower(h))
		}
		return nil
	}
}

// parsePrefixList reads comma-separated CIDR prefixes; a bare address is a
// prefix of one address.
func parsePrefixList(dst *[]netip.Prefix) func(string) error {
	return func(v string) error {
		*dst = nil
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return fmt.Errorf("want CIDR prefixes or addresses, comma-separated; %q is neither", s)
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			*dst = append(*dst, p.Masked())
		}
		return nil
	}
}

// loopbackOnly reports whether a listener on addr is reachable from this
// host only: its host is a loopback address or "localhost". An empty host
// (every interface) or any other name is not.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// finishAPITLS picks the API's TLS mode when --api-tls was not given, and
// refuses plain HTTP beyond loopback unless the operator says it is meant.
func (c *Config) finishAPITLS() error {
	loop := loopbackOnly(c.APIAddr)
	t := &c.APITLS
	if !t.set {
		t.Mode = tlsAuto
		if loop || c.APIInsecurePlainHTTP {
			t.Mode = tlsOff
		}
	}
	switch {
	case t.Mode == tlsOff && !loop && !c.APIInsecurePlainHTTP:
		return fmt.Errorf("config: --api-tls off with --api-addr %s, which listens beyond loopback, is refused: every AccessKey-signed request, and the private keys CreateClientCertificate and DescribeCertificatePrivateKey return, would cross the network in clear text, and acs:SecureTransport could never be true; use --api-tls auto (the default there) or --api-tls CERT,KEY, or add --api-insecure-plain-http when a TLS-terminating proxy in front makes plain HTTP safe", c.APIAddr)
	case t.Mode != tlsOff && c.APIInsecurePlainHTTP:
		return errors.New("config: --api-insecure-plain-http goes with --api-tls off; it contradicts --api-tls auto or CERT,KEY")
	case len(c.APITLSNames) > 0 && t.Mode != tlsAuto:
		return errors.New("config: --api-tls-names adds names to the certificate of --api-tls auto; it does nothing with --api-tls off or CERT,KEY")
	}
	return nil
}
