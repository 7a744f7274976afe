package responder

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRequestBytes caps a POST body (boulder's limit; real requests are a
// few hundred bytes).
const MaxRequestBytes = 10 << 10

// ServeHTTP answers OCSP over HTTP (RFC 6960 Appendix A): POST with an
// application/ocsp-request body, or GET /{base64}. Protocol errors are
// HTTP 200 with an OCSP error response and no cache headers.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var (
		der []byte
		err error
	)
	r.m.request(req.Method)
	get := req.Method == http.MethodGet || req.Method == http.MethodHead
	switch {
	case get:
		raw := req.URL.EscapedPath()
		if req.URL.RawPath == "" && strings.Contains(req.RequestURI, "%") {
			raw = strings.SplitN(req.RequestURI, "?", 2)[0]
		}
		der, err = DecodeGET(raw, r.opts.PathPrefix)
	case req.Method == http.MethodPost:
		der, err = io.ReadAll(io.LimitReader(req.Body, MaxRequestBytes+1))
		if err == nil && len(der) > MaxRequestBytes {
			err = errors.New("request body over 10 KiB")
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "OCSP takes GET (or HEAD) and POST", http.StatusMethodNotAllowed)
		return
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
	case errors.As(err, &re):
		r.log.Debug("malformed OCSP request", "reason", re.Reason, "err", err)
		r.m.answer("malformed", re.Reason)
		writeOCSP(w, malformedRequest)
		return
	case errors.Is(err, errUnauthorized):
		r.log.Debug("OCSP request for an issuer not served", "err", err)
		cause := "foreign issuer"
		if errors.As(err, &re) || strings.Contains(err.Error(), ReasonUnsupportedHash) {
			cause = "unsupported hash"
		}
		r.m.answer("unauthorized", cause)
		writeOCSP(w, unauthorized)
		return
	case errors.Is(err, errTryLater):
		r.log.Warn("OCSP live signing saturated; answered tryLater")
		r.m.answer("tryLater", "overload")
		writeOCSP(w, tryLater)
		return
	default:
		r.log.Error("OCSP answer failed", "err", err)
		r.m.answer("internal", "error")
		writeOCSP(w, internalError)
		return
	}
	cause := "live"
	switch {
	case a.Cached:
		cause = "cache"
	case a.Nonce:
		cause = "nonce"
	}
	for _, st := range a.Statuses {
		r.m.answer(st.String(), cause)
	}
	r.m.servedFrom(a.Cached, r.opts.Now().Sub(a.ThisUpdate))
	if get && !a.Nonce {
		now := r.opts.Now()
		expires := a.NextUpdate
		if refresh := a.ThisUpdate.Add(r.opts.Validity / 2); refresh.Before(expires) {
			expires = refresh
		}
		maxAge := int64(expires.Sub(now) / time.Second)
		if maxAge < 0 {
			maxAge = 0
		}
		sum := sha256.Sum256(a.DER)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h := w.Header()
		h.Set("Cache-Control", "public, no-transform, must-revalidate, max-age="+strconv.FormatInt(maxAge, 10))
		h.Set("ETag", etag)
		h.Set("Last-Modified", a.ThisUpdate.UTC().Format(http.TimeFormat))
		h.Set("Expires", now.Add(time.Duration(maxAge)*time.Second).UTC().Format(http.TimeFormat))
		if inm := req.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	writeOCSP(w, a.DER)
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func writeOCSP(w http.ResponseWriter, der []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Content-Length", strconv.Itoa(len(der)))
	w.WriteHeader(http.StatusOK)
	w.Write(der)
}
