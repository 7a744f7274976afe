package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/fsutil"
)

const (
	// APITLSBundleFile is the file, inside the data directory, holding the
	// chain (issuing CA first, root last) that verifies the auto API
	// certificate: what clients trust.
	APITLSBundleFile = "api-tls-ca.pem"
	// apiTLSIDFile names the certificate auto TLS serves, so that a
	// restart reuses it instead of issuing another.
	apiTLSIDFile = "api-tls-cert.id"
	// apiTLSValidity is the life of an auto API certificate.
	apiTLSValidity = 30 * 24 * time.Hour
	// apiTLSAutoCheck is how often auto TLS checks that its certificate is
	// not due, revoked or issued by a CA that can no longer issue.
	apiTLSAutoCheck = time.Minute
	// apiTLSAlias is the alias of the certificates auto TLS issues.
	apiTLSAlias = "certstatus API TLS"
)

// autoCert issues the API's server certificate from certstatus's own CA,
// stores it like any certificate (so it is listed, audited and revocable),
// and renews it at two thirds of its life, or at once when it or its CA is
// revoked.
type autoCert struct {
	svc      *service
	hosts    certs.SANs // the names the certificate must carry, sorted
	validity time.Duration
	log      *slog.Logger
	// served is the record of the certificate served; zero before the
	// first load. Only load, on one goroutine at a time, sets it.
	served certs.Record
	// description is describe's answer, read by /readyz's goroutines.
	description atomic.Pointer[string]
}

func (a *autoCert) describe() string {
	if d := a.description.Load(); d != nil {
		return *d
	}
	return "auto"
}

// setServed records r as the certificate served.
func (a *autoCert) setServed(r certs.Record) {
	a.served = r
	d := fmt.Sprintf("auto, certificate %s from CA %s", r.Identifier, r.Issuer)
	a.description.Store(&d)
}

func (a *autoCert) load(ctx context.Context, cur *tls.Certificate, now time.Time) (*tls.Certificate, error) {
	var why string
	if a.served.Identifier == "" {
		c, reason, err := a.reuse(ctx, now)
		if err != nil || c != nil {
			return c, err
		}
		why = reason
	} else {
		r, err := a.svc.store.Get(ctx, a.served.Identifier)
		if err != nil {
			return nil, fmt.Errorf("checking certificate %s: %w", a.served.Identifier, err)
		}
		if why = a.replaceReason(ctx, r, now); why == "" {
			return nil, nil
		}
	}
	return a.issue(ctx, now, why)
}

// replaceReason says why r cannot go on being served, "" if it can: it is
// revoked or deleted, two thirds of its life are over, it lacks a name the
// listener has, or its CA can no longer issue.
func (a *autoCert) replaceReason(ctx context.Context, r certs.Record, now time.Time) string {
	switch {
	case r.State != certs.StateIssued || r.Deleted:
		return fmt.Sprintf("certificate %s was revoked or deleted", r.Identifier)
	case !now.Before(renewAt(r.NotBefore, r.NotAfter)):
		return fmt.Sprintf("certificate %s is due for renewal (two thirds of its life, at %s)", r.Identifier, renewAt(r.NotBefore, r.NotAfter).UTC().Format(time.RFC3339))
	}
	x, err := x509.ParseCertificate(r.DER)
	if err != nil {
		return fmt.Sprintf("certificate %s does not parse: %v", r.Identifier, err)
	}
	if !slices.Equal(hostList(certs.SANs{DNSNames: x.DNSNames, IPs: x.IPAddresses}), hostList(a.hosts)) {
		return fmt.Sprintf("certificate %s names %v, the listener %v", r.Identifier, hostList(certs.SANs{DNSNames: x.DNSNames, IPs: x.IPAddresses}), hostList(a.hosts))
	}
	chain, err := a.svc.store.CAChain(ctx, r.Issuer)
	if err != nil {
		return fmt.Sprintf("the chain of CA %s: %v", r.Issuer, err)
	}
	if err := chainUsable(chain, now); err != nil {
		return err.Error()
	}
	return ""
}

// renewAt is two thirds into [nb, na).
func renewAt(nb, na time.Time) time.Time {
	return nb.Add(na.Sub(nb) * 2 / 3)
}

// reuse serves the certificate an earlier start issued, when it may still
// be: it returns nil and the reason when a new one is needed.
func (a *autoCert) reuse(ctx context.Context, now time.Time) (*tls.Certificate, string, error) {
	raw, err := os.ReadFile(filepath.Join(a.svc.cfg.Data, apiTLSIDFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "no API certificate issued yet", nil
	}
	if err != nil {
		return nil, "", err
	}
	id, err := certs.ParseIdentifier(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Sprintf("%s names no certificate: %v", apiTLSIDFile, err), nil
	}
	r, err := a.svc.store.Get(ctx, id)
	if errors.Is(err, certs.ErrNotFound) {
		return nil, fmt.Sprintf("certificate %s is not in the store", id), nil
	}
	if err != nil {
		return nil, "", err
	}
	if why := a.replaceReason(ctx, r, now); why != "" {
		return nil, why, nil
	}
	c, err := a.keyPair(ctx, r, nil)
	if err != nil {
		return nil, fmt.Sprintf("certificate %s: %v", id, err), nil
	}
	a.setServed(r)
	a.log.Info("API TLS: reusing the certificate issued earlier", "id", r.Identifier, "ca", r.Issuer, "not_after", r.NotAfter, "renew_at", renewAt(r.NotBefore, r.NotAfter), "trust", filepath.Join(a.svc.cfg.Data, APITLSBundleFile))
	return c, "", nil
}

// issue issues, stores and returns a new API certificate, and writes its
// trust bundle and the file that names it.
func (a *autoCert) issue(ctx context.Context, now time.Time, why string) (*tls.Certificate, error) {
	ca, chain, err := a.pickCA(ctx, now)
	if err != nil {
		return nil, err
	}
	nb, na := now.Add(-5*time.Minute), now.Add(a.validity)
	if nb.Before(ca.NotBefore) {
		nb = ca.NotBefore
	}
	for _, c := range chain {
		if na.After(c.NotAfter) {
			na = c.NotAfter
		}
		if limit := nb.Add(time.Duration(c.CertMaxDays) * 24 * time.Hour); c.CertMaxDays > 0 && na.After(limit) {
			na = limit
		}
	}
	cn := ""
	if len(a.hosts.DNSNames) > 0 {
		cn = a.hosts.DNSNames[0]
	} else if len(a.hosts.IPs) > 0 {
		cn = a.hosts.IPs[0].String()
	}
	out, err := a.svc.ca.Issue(certs.WithActor(ctx, certs.Actor{Who: "system:api-tls"}), certs.IssueRequest{
		Issuer: ca.Identifier, Kind: certs.KindServer, Algorithm: certs.ECC256,
		Subject:  certs.Subject{CommonName: cn, Organization: "certstatus"},
		SANs:     a.hosts,
		Validity: certs.Validity{NotBefore: nb, NotAfter: na},
		Alias:    apiTLSAlias,
	})
	if err != nil {
		return nil, fmt.Errorf("issuing the API certificate from CA %s: %w", ca.Identifier, err)
	}
	c, err := a.keyPair(ctx, out.Record, out.KeyPEM)
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteAtomic(filepath.Join(a.svc.cfg.Data, apiTLSIDFile), []byte(string(out.Record.Identifier)+"\n"), 0o644); err != nil {
		return nil, err
	}
	a.setServed(out.Record)
	a.log.Info("API TLS: issued a certificate", "why", why, "id", out.Record.Identifier, "ca", ca.Identifier, "ca_alias", ca.Alias,
		"picked", "the oldest issuing sub CA that can sign a server certificate", "names", hostList(a.hosts),
		"not_after", out.Record.NotAfter, "renew_at", renewAt(out.Record.NotBefore, out.Record.NotAfter), "trust", filepath.Join(a.svc.cfg.Data, APITLSBundleFile))
	return c, nil
}

// keyPair builds the TLS certificate of r (its key from keyPEM, or opened
// from the store when nil) with the chain up to, not including, the root,
// and writes the trust bundle: the whole chain, root last.
func (a *autoCert) keyPair(ctx context.Context, r certs.Record, keyPEM []byte) (*tls.Certificate, error) {
	chain, err := a.svc.ca.Chain(ctx, r.Issuer)
	if err != nil {
		return nil, err
	}
	var key crypto.PrivateKey
	if keyPEM != nil {
		p, err := tls.X509KeyPair(certs.EncodeCertPEM(r.DER), keyPEM)
		if err != nil {
			return nil, err
		}
		key = p.PrivateKey
	} else {
		der, err := a.svc.ca.PrivateKey(r)
		if err != nil {
			return nil, err
		}
		if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			return nil, fmt.Errorf("certificate %s: its key: %w", r.Identifier, err)
		}
	}
	leaf, err := x509.ParseCertificate(r.DER)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{r.DER}, PrivateKey: key, Leaf: leaf}
	var bundle []byte
	for _, ca := range chain {
		if ca.Kind != certs.KindRootCA {
			c.Certificate = append(c.Certificate, ca.DER)
		}
		bundle = append(bundle, certs.EncodeCertPEM(ca.DER)...)
	}
	path := filepath.Join(a.svc.cfg.Data, APITLSBundleFile)
	if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, bundle) {
		if err := fsutil.WriteAtomic(path, bundle, 0o644); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// pickCA chooses the issuing CA deterministically: the oldest sub CA (by
// creation, then identifier) that holds its key, can issue now, chains to
// unrevoked, unexpired CAs, and may sign serverAuth certificates.
func (a *autoCert) pickCA(ctx context.Context, now time.Time) (certs.CA, []certs.CA, error) {
	cas, err := a.svc.store.CAs(ctx)
	if err != nil {
		return certs.CA{}, nil, err
	}
	slices.SortStableFunc(cas, func(x, y certs.CA) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(string(x.Identifier), string(y.Identifier))
	})
	for _, c := range cas {
		if c.Kind != certs.KindSubCA || len(c.SealedKey) == 0 {
			continue
		}
		chain, err := a.svc.store.CAChain(ctx, c.Identifier)
		if err != nil || chainUsable(chain, now) != nil {
			continue
		}
		if slices.ContainsFunc(chain, func(c certs.CA) bool { return !c.AllowsEKU(certs.EKUServerAuth) }) {
			continue
		}
		return c, chain, nil
	}
	return certs.CA{}, nil, errors.New("no issuing sub CA can sign a server certificate for the API (each is revoked, disabled, expired, keyless or limited to other extended key usages): create one with \"certstatus ca create-sub\", or serve your own with --api-tls CERT,KEY")
}

// chainUsable reports why a CA chain (issuing CA first) cannot issue at
// now: the issuing CA is revoked, disabled or outside its validity, or an
// ancestor is revoked or expired.
func chainUsable(chain []certs.CA, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("empty CA chain")
	}
	if err := chain[0].CanIssueAt(now); err != nil {
		return err
	}
	for _, c := range chain[1:] {
		if c.State == certs.StateRevoked || !now.Before(c.NotAfter) {
			return fmt.Errorf("CA %s chains to CA %s, which is revoked or expired", chain[0].Identifier, c.Identifier)
		}
	}
	return nil
}

// hostList is the sorted DNS names and IP addresses of s, as text.
func hostList(s certs.SANs) []string {
	out := make([]string, 0, len(s.DNSNames)+len(s.IPs))
	for _, d := range s.DNSNames {
		out = append(out, strings.ToLower(d))
	}
	for _, ip := range s.IPs {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// listenerHosts are the names the API certificate carries for a listener
// configured as addr and bound at bound: the configured host name, the
// bound address — or, bound to every interface, localhost, 127.0.0.1, ::1,
// the host name and every interface address but link-local ones — and
// the extra names.
func listenerHosts(addr string, bound net.Addr, extra []string) certs.SANs {
	var s certs.SANs
	add := func(h string) {
		if ip := net.ParseIP(h); ip != nil {
			if ip4 := ip.To4(); ip4 != nil {
				ip = ip4
			}
			if !slices.ContainsFunc(s.IPs, ip.Equal) {
				s.IPs = append(s.IPs, ip)
			}
		} else if h = strings.ToLower(h); certs.CheckDNSName(h) == nil && !slices.Contains(s.DNSNames, h) {
			s.DNSNames = append(s.DNSNames, h)
		}
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && host != "" && net.ParseIP(host) == nil {
		add(host)
	}
	var ip net.IP
	if t, ok := bound.(*net.TCPAddr); ok {
		ip = t.IP
	}
	if ip == nil || ip.IsUnspecified() {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			add(h)
		}
		if name, err := os.Hostname(); err == nil {
			add(name)
		}
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
					add(n.IP.String())
				}
			}
		}
	} else {
		add(ip.String())
	}
	for _, h := range extra {
		add(h)
	}
	slices.Sort(s.DNSNames)
	slices.SortFunc(s.IPs, func(x, y net.IP) int { return bytes.Compare(x, y) })
	return s
}
