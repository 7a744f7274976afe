package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/acsauth"
	"github.com/certstatus/certstatus/internal/ratelimit"
)

// Version is the API version this package answers.
const Version = "2020-06-30"

// Sealer opens the sealed AccessKey secrets; aad is the AccessKeyId.
type Sealer interface {
	Open(aad, sealed []byte) ([]byte, error)
}

// Options configures a Server. A nil *Options means the defaults.
type Options struct {
	// MaxIdentifiers caps the identifiers of one status query. If zero, 1000.
	MaxIdentifiers int
	// DefaultQPS is the per-user, per-action limit of keys that set none.
	// If zero, 10 (Alibaba's documented limit).
	DefaultQPS int
	// TimeWindow is how far a request's timestamp may be from the server's
	// clock, and how long nonces are remembered. If zero, 15 minutes.
	TimeWindow time.Duration
	// MaxBodyBytes caps a request body. If zero, 1 MiB.
	MaxBodyBytes int64
	// MaxInFlight caps concurrent requests; more get 503 ServiceUnavailable
	// at once. If zero, 512.
	MaxInFlight int
	// NoncesPerKey caps the signature nonces remembered in memory for one
	// AccessKey; NonceCacheSize caps them in all. If zero,
	// acsauth.DefaultNoncesPerKey (65,536) and acsauth.DefaultNonces
	// (262,144). Past a cap the oldest are evicted (counted in
	// certstatus_api_nonce_evictions_total) and the key refuses requests
	// signed at or before the evicted ones, so a replay stays refused.
	NoncesPerKey, NonceCacheSize int
	// TokenTTL is how long ClientToken answers are kept. If zero, 24 hours.
	TokenTTL time.Duration
	// CRLBaseURL is where CRLs are published: <CRLBaseURL>/crl/<ca>.crl.
	CRLBaseURL string
	// CRLValidity is nextUpdate − thisUpdate of the CRLs the CA signs,
	// reported as CrlDay. If zero, 24 hours (ca.CRLPolicy's default).
	CRLValidity time.Duration
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger receives one line per state change at info and per request
	// at debug. If nil, discarded. Secrets are never logged.
	Logger *slog.Logger
	// Metrics, if set, counts calls, codes and authentication failures.
	Metrics *Metrics
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto headers count for acs:SourceIp and
	// acs:SecureTransport (client.go says how). If empty, none: the TCP
	// peer and the connection's own TLS decide.
	TrustedProxies []netip.Prefix
	// Extra are actions certstatus adds to Alibaba's (extra.go), by name.
	Extra map[string]ExtraAction
}

// Server answers the Alibaba CAS API.
type Server struct {
	// What the actions reach, each role in its own field (store.go says
	// which actions use which): New sets them all from its Store and
	// Authority.
	statuses   StatusReader
	records    CertReader
	cas        CAReader
	crls       CRLReader
	caLog      CALogReader
	changes    Changer
	accessKeys AccessKeyReader
	tokens     TokenStore
	nonceStore NonceStore
	keyAudit   KeyExportAuditor
	issuer     Issuer
	revoker    Revoker
	chains     ChainReader
	keys       KeyOpener
	sealer     Sealer

	opts       Options
	log        *slog.Logger
	nonces     *acsauth.NonceCache
	limiter    *ratelimit.Limiter
	inflight   chan struct{}
	policies   sync.Map // policy document → *ram.Policy or error
	tokenLocks [64]sync.Mutex
	pruned     time.Time
	pruneMu    sync.Mutex
	// noncesPruned is when stored nonces were last pruned (under pruneMu).
	noncesPruned time.Time
}

// New returns a Server over store and ca, opening AccessKey secrets with
// sealer.
func New(store Store, ca Authority, sealer Sealer, opts *Options) (*Server, error) {
	if store == nil || ca == nil || sealer == nil {
		return nil, errors.New("api: a store, an authority and a sealer are required")
	}
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	s.statuses, s.records, s.cas, s.crls, s.caLog = store, store, store, store, store
	s.changes, s.accessKeys, s.tokens, s.nonceStore, s.keyAudit = store, store, store, store, store
	s.issuer, s.revoker, s.chains, s.keys = ca, ca, ca, ca
	s.sealer = sealer
	return s, nil
}

// newServer returns a Server with opts applied and none of its stores,
// CA roles or sealer set: New sets them all, a unit test only those its
// handler reaches.
func newServer(opts *Options) (*Server, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.MaxIdentifiers == 0 {
		o.MaxIdentifiers = 1000
	}
	if o.DefaultQPS == 0 {
		o.DefaultQPS = 10
	}
	if o.TimeWindow == 0 {
		o.TimeWindow = 15 * time.Minute
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 512
	}
	if o.CRLValidity == 0 {
		o.CRLValidity = 24 * time.Hour
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxIdentifiers < 1 || o.DefaultQPS < 0 || o.MaxInFlight < 1 || o.MaxBodyBytes < 1024 || o.TimeWindow < 0 || o.TokenTTL < 0 || o.CRLValidity < 0 ||
		o.NoncesPerKey < 0 || o.NonceCacheSize < 0 {
		return nil, fmt.Errorf("api: invalid options %+v", o)
	}
	return &Server{
		opts: o, log: o.Logger,
		// A request may be dated up to TimeWindow ahead of the clock and still
		// be accepted for TimeWindow after that, so remember nonces for twice
		// the window: a replay can never outlive its nonce.
		nonces: acsauth.NewNonceCache(2*o.TimeWindow, o.Now, &acsauth.NonceOptions{
			PerKey: o.NoncesPerKey, Total: o.NonceCacheSize, OnEvict: o.Metrics.nonceEvicted,
		}),
		limiter:  ratelimit.New(o.Now, time.Minute),
		inflight: make(chan struct{}, o.MaxInFlight),
	}, nil
}

// Register mounts the API at "/" (GET and POST) on e. Other methods on "/"
// get UnsupportedHTTPMethod.
func (s *Server) Register(e *echo.Echo) {
	e.Any("/", func(c echo.Context) error {
		s.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}

// call is one authenticated request on its way to an action.
type call struct {
	ctx       context.Context
	p         params
	action    string
	key       certs.AccessKey
	requestID string
	now       time.Time
	// keyID is the AccessKeyId the request presents (its key may be
	// unknown): logged with failures, never the secret.
	keyID string
	// nonce and signed (the request's signed timestamp) are recorded once
	// the call is allowed to run.
	nonce  string
	signed time.Time
}

// resp is a success body; the server adds RequestId.
type resp map[string]any

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.opts.Now()
	id := newRequestID()
	var action, keyID string
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own signal to abort the response
			}
			s.log.Error("api: panic", "request_id", id, "action", action, "panic", fmt.Sprint(v))
			s.writeError(w, r, id, errInternal())
		}
	}()
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		s.writeError(w, r, id, newError(http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server: too many requests in flight."))
		return
	}
	out, aerr := s.handle(r, id, start, &action, &keyID)
	if aerr != nil && aerr.Status >= 500 && r.Context().Err() != nil {
		aerr = errClientClosed() // the client went away: not a server fault
	}
	code := "OK"
	if aerr != nil {
		code = aerr.Code
	}
	s.opts.Metrics.call(action, code, s.opts.Now().Sub(start))
	if aerr != nil {
		level, msg := slog.LevelDebug, "api request failed"
		switch {
		case aerr.Status >= 500:
			level = slog.LevelError
		case aerr.notice != "":
			level, msg = slog.LevelInfo, aerr.notice
		}
		attrs := []any{"request_id", id, "action", action, "access_key", keyID, "code", aerr.Code, "status", aerr.Status, "remote", r.RemoteAddr}
		s.log.Log(r.Context(), level, msg, append(attrs, aerr.attrs...)...)
		s.writeError(w, r, id, aerr)
		return
	}
	if st, ok := out[StreamKey].(Stream); ok {
		s.stream(w, r, id, action, st)
		return
	}
	out["RequestId"] = id
	s.log.Debug("api request", "request_id", id, "action", action, "access_key", keyID, "duration", s.opts.Now().Sub(start))
	writeJSON(w, http.StatusOK, out)
}

// stream writes a Stream answer (see extra.go).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, id, action string, st Stream) {
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("x-acs-request-id", id)
	w.WriteHeader(http.StatusOK)
	if err := st(r.Context(), w); err != nil {
		s.log.Error("api: streamed answer cut short", "request_id", id, "action", action, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) handle(r *http.Request, id string, now time.Time, action, keyID *string) (resp, *Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, newError(http.StatusForbidden, "UnsupportedHTTPMethod", "This http method is not supported: %s (use POST or GET).", r.Method)
	}
	// Refuse an over-size body from its Content-Length, before reading
	// it: net/http sends "100 Continue" to a client that asked for it
	// only when the handler first reads the body, so such a client is told
	// 413 without uploading anything.
	if r.ContentLength > s.opts.MaxBodyBytes {
		return nil, errTooLarge(s.opts.MaxBodyBytes)
	}
	body, aerr := s.readBody(r)
	if aerr != nil {
		return nil, aerr
	}
	var form url.Values
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, errInvalid("body", "the form body does not parse: %v", err)
		}
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errInvalid("query", "the query string does not parse: %v", err)
	}
	p, aerr := mergeParams(query, form)
	if aerr != nil {
		return nil, aerr
	}
	c := &call{ctx: r.Context(), p: p, requestID: id, now: now}
	if aerr := s.authenticate(r, body, c); aerr != nil {
		*action, *keyID = c.action, c.keyID
		s.opts.Metrics.authFailure(signatureKind(r, p), aerr.Code)
		return nil, noticed(aerr, "api request not authenticated")
	}
	*action, *keyID = c.action, c.key.ID
	c.ctx = certs.WithActor(c.ctx, certs.Actor{Who: c.key.ID, RequestID: id})
	a, ok := actions[c.action]
	if x, extra := s.opts.Extra[c.action]; !ok && extra {
		a, ok = x.action(), true
	}
	if !ok {
		if why, billing := unsupported[c.action]; billing {
			return nil, newError(http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found: %s is not supported by certstatus (%s).", c.action, why)
		}
		return nil, newError(http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method: %q.", c.action)
	}
	if aerr := s.authorize(r, c); aerr != nil {
		return nil, noticed(aerr, "api request denied")
	}
	if aerr := s.throttle(c); aerr != nil {
		return nil, aerr
	}
	// Only now, with the signature, the policy and the rate limit passed,
	// is the nonce recorded: refused requests never fill the cache, and a
	// throttled one can be retried as it was signed.
	if aerr := s.useNonce(c, a); aerr != nil {
		s.opts.Metrics.authFailure(signatureKind(r, p), aerr.Code)
		return nil, noticed(aerr, "api request not authenticated")
	}
	if a.idempotent {
		return s.idempotent(c, a.run)
	}
	return a.run(s, c)
}

// noticed marks a client error (not a server fault) to be logged at info
// as msg.
func noticed(e *Error, msg string) *Error {
	if e.Status < 500 && e.notice == "" {
		e.notice = msg
	}
	return e
}

// signatureKind names the signature version of r for the metrics.
func signatureKind(r *http.Request, p params) string {
	switch {
	case r.Header.Get("Authorization") != "":
		return "v3"
	case p.has("Signature"):
		return "v1"
	}
	return "none"
}

// readBody reads at most MaxBodyBytes of the body.
func (s *Server) readBody(r *http.Request) ([]byte, *Error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, errInvalid("body", "reading the body: %v", err)
	}
	if int64(len(body)) > s.opts.MaxBodyBytes {
		return nil, errTooLarge(s.opts.MaxBodyBytes)
	}
	return body, nil
}

func errTooLarge(max int64) *Error {
	return newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes.", max)
}

// errorBody is Alibaba's error JSON.
type errorBody struct {
	RequestId          string              `json:"RequestId"`
	HostId             string              `json:"HostId"`
	Code               string              `json:"Code"`
	Message            string              `json:"Message"`
	Recommend          string              `json:"Recommend"`
	AccessDeniedDetail *AccessDeniedDetail `json:"AccessDeniedDetail,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, id string, e *Error) {
	for k, v := range e.Header {
		w.Header().Set(k, v)
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	writeJSON(w, e.Status, errorBody{
		RequestId: id, HostId: host, Code: e.Code, Message: e.Message,
		Recommend: recommend(e.Code), AccessDeniedDetail: e.Denied,
	})
}

// newRequestID returns a random UUID (version 4), as Alibaba's RequestId.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}
