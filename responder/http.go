package responder

import (
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
)

// MaxRequestBytes caps a POST body (boulder's limit; real requests are a
// few hundred bytes).
const MaxRequestBytes = 10 << 10

// ServeHTTP answers OCSP over HTTP (RFC 6960 Appendix A): POST with an
// application/ocsp-request body, or GET /{base64}. Protocol errors are
// HTTP 200 with an OCSP error response and no cache headers.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.m.request(req.Method)
	get := req.Method == http.MethodGet || req.Method == http.MethodHead
	if !get && req.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "OCSP takes GET (or HEAD) and POST", http.StatusMethodNotAllowed)
		return
	}
	sc := getScratch()
	defer putScratch(sc)
	now := r.opts.Now()
	var (
		der []byte
		err error
	)
	if get {
		if d, ok := quickGET(req.URL.Path, r.opts.PathPrefix, sc.req); ok {
			sc.req = d
			if a, out, ok := r.quick(req.Context(), now, d, sc.out[:0]); ok {
				sc.out = out
				r.writeAnswer(w, req, a, true, now)
				return
			}
		}
		raw := req.URL.EscapedPath()
		if req.URL.RawPath == "" && strings.Contains(req.RequestURI, "%") {
			raw = strings.SplitN(req.RequestURI, "?", 2)[0]
		}
		der, err = DecodeGET(raw, r.opts.PathPrefix)
	} else {
		der, err = readBody(req.Body, sc.req[:0])
		if err == nil {
			sc.req = der
			if a, out, ok := r.quick(req.Context(), now, der, sc.out[:0]); ok {
				sc.out = out
				r.writeAnswer(w, req, a, false, now)
				return
			}
		}
	}
	if err != nil {
		r.log.Debug("malformed OCSP request", "method", req.Method, "err", err)
		cause := "bad GET encoding"
		if !get {
			cause = "body"
		}
		r.m.answer("malformed", cause)
		writeOCSP(w, malformedRequest)
		return
	}
	a, err := r.Respond(req.Context(), der)
	var re *RequestError
	switch {
	case err == nil:
		r.writeAnswer(w, req, a, get, r.opts.Now())
	case errors.Is(err, errUnauthorized):
		// Before the *RequestError case: an unsupported hash is
		// errUnauthorized wrapping one.
		r.log.Debug("OCSP request for an issuer not served", "err", err)
		cause := "foreign issuer"
		if errors.As(err, &re) && re.Reason == ReasonUnsupportedHash {
			cause = ReasonUnsupportedHash
		}
		r.m.answer("unauthorized", cause)
		writeOCSP(w, unauthorized)
	case errors.As(err, &re):
		r.log.Debug("malformed OCSP request", "reason", re.Reason, "err", err)
		r.m.answer("malformed", re.Reason)
		writeOCSP(w, malformedRequest)
	case errors.Is(err, errTryLater):
		r.log.Warn("OCSP live signing saturated; answered tryLater", "limit", r.opts.MaxLiveSigning,
			"raise_with", "Options.MaxLiveSigning (certstatus serve --ocsp-max-live)")
		r.m.answer("tryLater", "overload")
		writeOCSP(w, tryLater)
	case errors.Is(err, certs.ErrCorrupt):
		// Never a status from what cannot be read: internalError, and
		// the store has counted and named the value.
		r.log.Error("OCSP answer failed: a stored record cannot be read", "err", err)
		r.m.answer("internal", "corrupt record")
		writeOCSP(w, internalError)
	default:
		r.log.Error("OCSP answer failed", "err", err)
		r.m.answer("internal", "error")
		writeOCSP(w, internalError)
	}
}

// readBody reads a POST body into buf, refusing more than MaxRequestBytes.
func readBody(body io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > MaxRequestBytes {
			return nil, errors.New("request body over 10 KiB")
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// writeAnswer writes a successful answer: for GET without a nonce with the
// caching headers of RFC 5019 §6 / RFC 9919 (max-age up to the midpoint of
// the validity, so that caches fetch the refreshed answer), an ETag, and
// 304 for a matching If-None-Match.
func (r *Responder) writeAnswer(w http.ResponseWriter, req *http.Request, a Answer, get bool, now time.Time) {
	r.m.answered(a.Statuses, a.Cached, a.Nonce, now.Sub(a.ThisUpdate))
	if get && !a.Nonce {
		// The four values share one string and one slice: two allocations
		// instead of eight on the path every cached GET takes.
		var buf [160]byte
		b, ends := r.cacheValues(buf[:0], a, now)
		v := string(b)
		etag := v[ends[0]:ends[1]]
		vals := []string{v[:ends[0]], etag, v[ends[1]:ends[2]], v[ends[2]:]}
		h := w.Header()
		h["Cache-Control"] = vals[0:1:1]
		h["Etag"] = vals[1:2:2]
		h["Last-Modified"] = vals[2:3:3]
		h["Expires"] = vals[3:4:4]
		if inm := req.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	writeOCSP(w, a.DER)
}

// cacheValues appends to b the values of Cache-Control, ETag,
// Last-Modified and Expires for a GET answer, and returns where the first
// three end.
func (r *Responder) cacheValues(b []byte, a Answer, now time.Time) ([]byte, [3]int) {
	expires := a.NextUpdate
	if refresh := a.ThisUpdate.Add(r.validity() / 2); refresh.Before(expires) {
		expires = refresh
	}
	maxAge := int64(expires.Sub(now) / time.Second)
	if maxAge < 0 {
		maxAge = 0
	}
	var ends [3]int
	sum := sha256.Sum256(etagInput(a.DER))
	b = append(b, "public, no-transform, must-revalidate, max-age="...)
	b = strconv.AppendInt(b, maxAge, 10)
	ends[0] = len(b)
	b = append(b, '"')
	b = hex.AppendEncode(b, sum[:16])
	b = append(b, '"')
	ends[1] = len(b)
	b = appendHTTPDate(b, a.ThisUpdate)
	ends[2] = len(b)
	b = appendHTTPDate(b, now.Add(time.Duration(maxAge)*time.Second))
	return b, ends
}

// AppendQuickHTTP is ServeHTTP for the requests its quick path answers
// (one canonical CertID, no nonce, a current pre-signed or remembered
// answer), written as a whole HTTP/1.1 response appended to dst for a
// server that writes its own (internal/quickhttp): get is a GET of target
// (the request-target as sent), else a POST of body. The response carries
// what ServeHTTP's does: the same body, Content-Type, Content-Length, Date
// and, for GET, Cache-Control, ETag, Last-Modified and Expires. ok is
// false, with nothing counted, for every other request (a target with a
// query included); ServeHTTP answers those.
func (r *Responder) AppendQuickHTTP(ctx context.Context, dst []byte, get bool, target string, body []byte) ([]byte, bool) {
	sc := getScratch()
	defer putScratch(sc)
	now := r.opts.Now()
	der := body
	if get {
		// Two vectorised byte searches: ContainsAny walks the target
		// byte by byte (~0.1 µs of a ~1 µs GET).
		if strings.IndexByte(target, '?') >= 0 || strings.IndexByte(target, '#') >= 0 {
			return dst, false
		}
		var d []byte
		var ok bool
		switch {
		case !strings.Contains(target, "%"):
			d, ok = quickGET(target, r.opts.PathPrefix, sc.req)
		case r.opts.PathPrefix == "":
			// Base64 sent URL-encoded (%2B, %2F, %3D), as many clients
			// do: unescaped as net/http's URL.Path, which ServeHTTP
			// reads, without allocating.
			sc.path, d, ok = quickGETEscaped(target, sc.path, sc.req)
		default:
			p, err := url.PathUnescape(target)
			if err != nil {
				return dst, false
			}
			d, ok = quickGET(p, r.opts.PathPrefix, sc.req)
		}
		if !ok {
			return dst, false
		}
		sc.req, der = d, d
	} else if len(body) > MaxRequestBytes {
		return dst, false
	}
	a, out, ok := r.quick(ctx, now, der, sc.out[:0])
	sc.out = out
	if !ok {
		return dst, false
	}
	method := http.MethodPost
	if get {
		method = http.MethodGet
	}
	r.m.request(method)
	r.m.answered(a.Statuses, a.Cached, a.Nonce, now.Sub(a.ThisUpdate))
	dst = append(dst, "HTTP/1.1 200 OK\r\n"...)
	if get {
		var buf [160]byte
		v, ends := r.cacheValues(buf[:0], a, now)
		dst = append(append(dst, "Cache-Control: "...), v[:ends[0]]...)
		dst = append(append(dst, "\r\nEtag: "...), v[ends[0]:ends[1]]...)
		dst = append(append(dst, "\r\nExpires: "...), v[ends[2]:]...)
		dst = append(append(dst, "\r\nLast-Modified: "...), v[ends[1]:ends[2]]...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(a.DER)), 10)
	dst = append(dst, "\r\nContent-Type: application/ocsp-response\r\nDate: "...)
	dst = appendHTTPDate(dst, now)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, a.DER...), true
}

// etagInput is what the ETag hashes: the signature of a BasicOCSPResponse
// (RFC 6960 §4.2.1), which differs whenever anything signed differs, or the
// whole DER if it is not one.
func etagInput(der []byte) []byte {
	in := cryptobyte.String(der)
	var resp, bytesField, basic, tbs, alg cryptobyte.String
	var sig asn1.BitString
	var status int
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Enum(&status) ||
		!resp.ReadASN1(&bytesField, tagExplicit0) || !bytesField.ReadASN1(&bytesField, cbasn1.SEQUENCE) ||
		!bytesField.SkipASN1(cbasn1.OBJECT_IDENTIFIER) || !bytesField.ReadASN1(&basic, cbasn1.OCTET_STRING) ||
		!basic.ReadASN1(&basic, cbasn1.SEQUENCE) || !basic.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!basic.ReadASN1Element(&alg, cbasn1.SEQUENCE) || !basic.ReadASN1BitString(&sig) {
		return der
	}
	return sig.Bytes
}

// appendHTTPDate appends t in the HTTP date format (RFC 9110 §5.6.7,
// http.TimeFormat) without time.Format's layout interpretation.
func appendHTTPDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	yy, mm, dd := t.Date()
	hh, mi, ss := t.Clock()
	b = append(b, t.Weekday().String()[:3]...)
	b = append(b, ", "...)
	b = append2(b, dd)
	b = append(b, ' ')
	b = append(b, mm.String()[:3]...)
	b = append(b, ' ')
	b = append2(b, yy/100)
	b = append2(b, yy%100)
	b = append(b, ' ')
	b = append2(b, hh)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, ss)
	return append(b, " GMT"...)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// contentTypeOCSP is shared by every response; net/http only reads it.
var contentTypeOCSP = []string{"application/ocsp-response"}

// autoLength is the body size below which net/http sets Content-Length
// itself (a body written whole before the handler returns, under its
// 2 KiB chunking buffer); larger answers get it explicitly.
const autoLength = 2048

func writeOCSP(w http.ResponseWriter, der []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeOCSP
	if len(der) >= autoLength {
		h.Set("Content-Length", strconv.Itoa(len(der)))
	}
	w.WriteHeader(http.StatusOK)
	w.Write(der)
}
