package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/acsauth"
	"github.com/certstatus/certstatus/internal/ram"
)

// ramService is the RAM code of Certificate Management Service.
const ramService = "yundun-cert"

// acsError converts a verification error of acsauth.
func acsError(err error) *Error {
	var ae *acsauth.Error
	if errors.As(err, &ae) {
		return &Error{Status: ae.Status, Code: ae.Code, Message: ae.Message}
	}
	return errInternal()
}

// authenticate identifies the caller by the V3 Authorization header or the
// V1 Signature parameter, in the order of alibaba-api.md §5: common
// parameters, AccessKey, timestamp window, signature, nonce.
func (s *Server) authenticate(r *http.Request, body []byte, c *call) *Error {
	if h := r.Header.Get("Authorization"); h != "" {
		return s.authV3(r, body, h, c)
	}
	if c.p.has("Signature") {
		return s.authV1(r, c)
	}
	c.action = c.p.str("Action")
	return newError(http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards: no Authorization header (V3) and no Signature parameter (V1).")
}

func (s *Server) authV1(r *http.Request, c *call) *Error {
	c.action, c.keyID = c.p.str("Action"), c.p.str("AccessKeyId")
	for _, name := range []string{"Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if !c.p.has(name) {
			return errMissing(name)
		}
	}
	if m := c.p.str("SignatureMethod"); m != "HMAC-SHA1" {
		return newError(http.StatusBadRequest, "InvalidParameter", "The specified parameter \"SignatureMethod\" is not valid: %q (V1 supports HMAC-SHA1; use the ACS3-HMAC-SHA256 header for V3).", m)
	}
	if v := c.p.str("SignatureVersion"); v != "1.0" {
		return errInvalid("SignatureVersion", "%q, want 1.0", v)
	}
	if t := c.p.str("SignatureType"); t != "" {
		return errInvalid("SignatureType", "%q: bearer tokens are not supported", t)
	}
	if c.p.has("SecurityToken") {
		return errInvalid("SecurityToken", "STS tokens are not supported; use an AccessKey")
	}
	secret, aerr := s.accessKey(c, c.p.str("AccessKeyId"))
	if aerr != nil {
		return aerr
	}
	signed, err := acsauth.CheckTime(c.p.str("Timestamp"), c.now, s.opts.TimeWindow)
	if err != nil {
		return acsError(err)
	}
	c.signed = signed
	if sts, ok := acsauth.V1Verify(secret, r.Method, c.p.v, c.p.str("Signature")); !ok {
		return newError(http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	return s.checkNonce(c, c.p.str("SignatureNonce"), c.p.str("Version"))
}

func (s *Server) authV3(r *http.Request, body []byte, h string, c *call) *Error {
	c.action = r.Header.Get("x-acs-action")
	a, err := acsauth.ParseAuthorization(h)
	if err != nil {
		return acsError(err)
	}
	c.keyID = a.AccessKeyID
	for _, name := range []string{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if r.Header.Get(name) == "" {
			return errMissing(name)
		}
	}
	if err := acsauth.CheckSignedHeaders(a, r.Header, len(body) > 0); err != nil {
		return acsError(err)
	}
	if r.Header.Get("x-acs-security-token") != "" || r.Header.Get("x-acs-bearer-token") != "" {
		return errInvalid("x-acs-security-token", "STS and bearer tokens are not supported; use an AccessKey")
	}
	if pa := c.p.str("Action"); pa != "" && pa != c.action {
		return errInvalid("Action", "%q differs from the x-acs-action header %q", pa, c.action)
	}
	secret, aerr := s.accessKey(c, a.AccessKeyID)
	if aerr != nil {
		return aerr
	}
	signed, err := acsauth.CheckTime(r.Header.Get("x-acs-date"), c.now, s.opts.TimeWindow)
	if err != nil {
		return acsError(err)
	}
	c.signed = signed
	payload := r.Header.Get("x-acs-content-sha256")
	sum := sha256.Sum256(body)
	if !strings.EqualFold(payload, hex.EncodeToString(sum[:])) {
		return newError(http.StatusBadRequest, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the SHA-256 of the request body.")
	}
	canonical := acsauth.V3CanonicalRequest(r.Method, r.URL.EscapedPath(), r.URL.Query(), r.Header, r.Host, a.SignedHeaders, payload)
	sts := acsauth.V3StringToSign(canonical)
	if !acsauth.Equal(acsauth.V3Signature(secret, sts), strings.ToLower(a.Signature)) {
		return newError(http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:%s (canonical request:\n%s)", sts, canonical)
	}
	return s.checkNonce(c, r.Header.Get("x-acs-signature-nonce"), r.Header.Get("x-acs-version"))
}

// accessKey looks the key up and opens its secret; c.key is set on success.
func (s *Server) accessKey(c *call, id string) ([]byte, *Error) {
	k, err := s.accessKeys.AccessKey(c.ctx, id)
	if errors.Is(err, certs.ErrNotFound) {
		return nil, newError(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	if err != nil {
		return nil, s.internal(c, "access key lookup", err)
	}
	c.key = k
	if k.Disabled {
		return nil, newError(http.StatusForbidden, "Forbidden.AccessKeyDisabled", "The Access Key is disabled.")
	}
	secret, err := s.sealer.Open([]byte(k.ID), k.SealedSecret)
	if err != nil {
		s.log.Error("api: access key secret does not open (wrong master key?)", "access_key", id, "err", err)
		return nil, errInternal()
	}
	return secret, nil
}

// checkNonce rejects a replay, then checks the version. It only looks:
// the nonce is recorded by useNonce once the call is allowed to run.
func (s *Server) checkNonce(c *call, nonce, version string) *Error {
	if len(nonce) > 128 {
		return errInvalid("SignatureNonce", "longer than 128 characters")
	}
	c.nonce = nonce
	if s.nonces.Seen(c.key.ID, nonce, c.signed) {
		return errNonceUsed()
	}
	if version != Version {
		return newError(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid: %q (certstatus answers %s).", version, Version)
	}
	return nil
}

func errNonceUsed() *Error {
	return newError(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
}

// nonceStoreLimit bounds the stored nonces one prune deletes.
const nonceStoreLimit = 10000

// useNonce records the call's nonce: in memory (the atomic check-and-record
// that lets exactly one of two identical concurrent requests through) and,
// for the actions that change state, in the store until twice the time
// window has passed, so that the nonce stays used across a restart. A
// store failure refuses the call: an unrecorded nonce could be replayed.
func (s *Server) useNonce(c *call, a action) *Error {
	if !s.nonces.Use(c.key.ID, c.nonce, c.signed) {
		return errNonceUsed()
	}
	if !a.changes {
		return nil
	}
	fresh, err := s.nonceStore.UseNonce(c.ctx, c.key.ID, c.nonce, c.now.Add(2*s.opts.TimeWindow))
	if err != nil {
		return s.internal(c, "recording the signature nonce", err)
	}
	if !fresh {
		return errNonceUsed()
	}
	s.pruneNonces(c)
	return nil
}

// pruneNonces deletes expired stored nonces, at most once a minute and at
// most nonceStoreLimit at a time.
func (s *Server) pruneNonces(c *call) {
	if !s.due(&s.noncesPruned, c.now, time.Minute) {
		return
	}
	if n, err := s.nonceStore.PruneNonces(c.ctx, c.now, nonceStoreLimit); err != nil {
		s.log.Warn("api: pruning stored nonces", "err", err)
	} else if n > 0 {
		s.log.Debug("api: pruned stored nonces", "count", n)
	}
}

// policy parses (once) and returns the key's RAM policy, as ram.Current
// reads it.
func (s *Server) policy(doc string) (*ram.Policy, error) {
	doc = ram.Current(doc)
	if v, ok := s.policies.Load(doc); ok {
		if p, ok := v.(*ram.Policy); ok {
			return p, nil
		}
		return nil, v.(error)
	}
	p, err := ram.Parse(doc)
	if err != nil {
		s.policies.Store(doc, err)
		return nil, err
	}
	s.policies.Store(doc, p)
	return p, nil
}

// authorize checks yundun-cert:<Action> against the key's policy.
func (s *Server) authorize(r *http.Request, c *call) *Error {
	authAction := ramService + ":" + c.action
	deny := func(kind string) *Error {
		e := newError(http.StatusForbidden, "NoPermission", "You are not authorized to perform this operation: %s.", authAction)
		e.Denied = &AccessDeniedDetail{
			AuthAction: authAction, AuthPrincipalType: "SubUser", AuthPrincipalDisplayName: c.key.Owner,
			AuthPrincipalOwnerId: c.key.Owner, NoPermissionType: kind, PolicyType: "AccountLevelIdentityBasedPolicy",
		}
		return e
	}
	p, err := s.policy(c.key.Policy)
	if err != nil {
		s.log.Warn("api: access key has an invalid policy; denying", "access_key", c.key.ID, "err", err)
		return deny("ImplicitDeny")
	}
	ip, secure := s.client(r)
	d := p.Evaluate(ram.Request{Action: authAction, SourceIP: ip, CurrentTime: c.now, SecureTransport: secure})
	if !d.Allowed {
		return deny(d.NoPermissionType())
	}
	return nil
}

// throttle applies the per-user, per-action QPS limit.
func (s *Server) throttle(c *call) *Error {
	qps := c.key.QPS
	if qps == 0 {
		qps = s.opts.DefaultQPS
	}
	owner := c.key.Owner
	if owner == "" {
		owner = "key:" + c.key.ID
	}
	res := s.limiter.Allow(owner+"\x00"+c.action, qps)
	if res.Allowed {
		return nil
	}
	how := fmt.Sprintf("certstatus accesskey set %s --qps N", c.key.ID)
	e := newError(http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control. The limit is %d requests per second for %s per user (%s); an operator raises it with `%s`.",
		qps, c.action, owner, how)
	e.Header = map[string]string{"x-ratelimit-user-api": res.Header()}
	e.notice = "api request throttled"
	e.attrs = []any{"limit_qps", qps, "limit_per", "user and action", "owner", owner, "raise_with", how}
	return e
}

// due reports whether every has passed since *last, and if so sets *last
// to now: the clock of the background prunes that ride on calls.
func (s *Server) due(last *time.Time, now time.Time, every time.Duration) bool {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	if now.Sub(*last) <= every {
		return false
	}
	*last = now
	return true
}
