package main

import (
	"net/url"
	"strings"

	"github.com/certstatus/certstatus/internal/percent"
	"github.com/certstatus/certstatus/internal/quickhttp"
)

// ocspRoutes decides where the OCSP listener sends a request: /healthz,
// the CA certificates and the CRLs go to echo, everything else to the
// responder. CA certificates and CRLs are served at every URL certstatus
// puts into a certificate: /ca/<id>.crt and /crl/<id>.crl at the root, and
// under each base, the OCSP path prefix and the path of the CRL base URL
// (with --ocsp-url http://h/ocsp --ocsp-path-prefix /ocsp certificates
// carry http://h/ocsp/crl/<id>.crl). It is the one routing predicate of
// the listener: ocspHandler and the quick server's forResponder both ask
// it.
type ocspRoutes struct {
	// bases are the paths CA certificates and CRLs are also served under,
	// unescaped, without a trailing slash ("/ocsp").
	bases []string
	// head is how many unescaped bytes of a path other needs to decide.
	head int
}

// newOCSPRoutes is the routing of a listener with GET path prefix prefix
// whose certificates name CRLs under crlBaseURL.
func newOCSPRoutes(prefix, crlBaseURL string) ocspRoutes {
	r := ocspRoutes{head: len("/healthz") + 1}
	add := func(p string) {
		p = strings.TrimRight(p, "/")
		if p == "" || p[0] != '/' {
			return
		}
		for _, b := range r.bases {
			if b == p {
				return
			}
		}
		r.bases = append(r.bases, p)
		r.head = max(r.head, len(p)+len("/crl/"))
	}
	if p := strings.Trim(prefix, "/"); p != "" {
		add("/" + p)
	}
	if u, err := url.Parse(crlBaseURL); err == nil {
		add(u.Path)
	}
	return r
}

// fileRoute reports whether path (below a base) names a CA certificate or
// a CRL.
func fileRoute(path string) bool {
	return strings.HasPrefix(path, "/ca/") || strings.HasPrefix(path, "/crl/")
}

// other reports whether ocspHandler sends path (net/http's URL.Path) to
// echo rather than to the responder.
func (r ocspRoutes) other(path string) bool {
	if path == "/healthz" || fileRoute(path) {
		return true
	}
	for _, b := range r.bases {
		if rest, ok := strings.CutPrefix(path, b); ok && fileRoute(rest) {
			return true
		}
	}
	return false
}

// echoPaths are the patterns echo serves CA certificates (ca) and CRLs
// (crl) at.
func (r ocspRoutes) echoPaths() (ca, crl []string) {
	for _, b := range append([]string{""}, r.bases...) {
		ca, crl = append(ca, b+"/ca/:file"), append(crl, b+"/crl/:file")
	}
	return ca, crl
}

// forResponder reports whether ocspHandler sends req to the responder,
// judging its path as net/http's URL.Path: without the query, unescaped.
// The quick server has the responder answer such a request in place when
// the quick path does not (a nonce, several CertIDs, a request to sign
// live).
func (r ocspRoutes) forResponder(req quickhttp.Request) bool {
	path, _, _ := strings.Cut(req.Target, "?")
	if strings.IndexByte(path, '%') < 0 {
		return !r.other(path)
	}
	// url.PathUnescape would allocate the whole path (a GET's base64 is
	// full of %2F) where other looks at no more than its head: check every
	// escape as it does (a bad one is net/http's to refuse) and unescape
	// only the head.
	var buf [128]byte
	if r.head > len(buf) {
		p, err := url.PathUnescape(path) // a base longer than any sensible prefix
		return err == nil && !r.other(p)
	}
	h, ok := percent.Append(buf[:0], path, r.head)
	if !ok {
		return false
	}
	return !r.other(string(h))
}
