package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/maphash"
	"net/http"
	"sort"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// Parameters that belong to the signature or the transport, not to what is
// asked for; they differ between retries of the same request.
var transportParams = map[string]bool{
	"Signature": true, "SignatureNonce": true, "Timestamp": true, "SignatureMethod": true,
	"SignatureVersion": true, "SignatureType": true, "AccessKeyId": true, "Format": true,
	"RegionId": true, "ClientToken": true, "Version": true, "Action": true,
}

// paramsDigest hashes the business parameters, so a ClientToken reused
// for a different request is detected.
func paramsDigest(p params) string {
	keys := make([]string, 0, len(p.v))
	for k := range p.v {
		if !transportParams[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		for _, v := range p.v[k] {
			h.Write([]byte(k))
			h.Write([]byte{0})
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

type storedAnswer struct {
	Digest   string `json:"digest"`
	Response resp   `json:"response"`
}

var tokenSeed = maphash.MakeSeed()

// idempotent runs a create action once per (user, action, ClientToken):
// a retry with the same token and parameters gets the first answer (with
// its own RequestId); the same token with other parameters is refused.
func (s *Server) idempotent(c *call, run func(*Server, *call) (resp, *Error)) (resp, *Error) {
	token := c.p.str("ClientToken")
	if token == "" {
		return run(s, c)
	}
	if len(token) > 64 {
		return nil, errInvalid("ClientToken", "longer than 64 characters")
	}
	for _, r := range token {
		if r < 0x20 || r > 0x7e {
			return nil, errInvalid("ClientToken", "must be printable ASCII")
		}
	}
	owner := c.key.Owner
	if owner == "" {
		owner = "key:" + c.key.ID
	}
	key := owner + "\x00" + c.action + "\x00" + token
	mu := &s.tokenLocks[maphash.String(tokenSeed, key)%uint64(len(s.tokenLocks))]
	mu.Lock()
	defer mu.Unlock()

	digest := paramsDigest(c.p)
	if b, _, err := s.tokens.Token(c.ctx, key); err == nil {
		var prev storedAnswer
		if err := json.Unmarshal(b, &prev); err != nil {
			return nil, s.internal(c, "stored ClientToken answer", err)
		}
		if prev.Digest != digest {
			return nil, newError(http.StatusBadRequest, "IdempotentParameterMismatch", "The ClientToken %q was used with different parameters.", token)
		}
		return prev.Response, nil
	} else if !errors.Is(err, certs.ErrNotFound) {
		return nil, s.internal(c, "ClientToken lookup", err)
	}
	out, aerr := run(s, c)
	if aerr != nil {
		return nil, aerr
	}
	b, err := json.Marshal(storedAnswer{Digest: digest, Response: out})
	if err == nil {
		// Even if the client has gone: the work is durable, and its retry
		// must find the answer rather than do it again.
		err = s.tokens.PutToken(context.WithoutCancel(c.ctx), key, b, c.now)
	}
	if err != nil {
		// The work is done and durable; only the retry protection failed.
		s.log.Error("api: storing ClientToken answer", "request_id", c.requestID, "err", err)
	}
	s.pruneTokens(c)
	return out, nil
}

// pruneTokens drops expired ClientToken answers, at most once an hour.
func (s *Server) pruneTokens(c *call) {
	if !s.due(&s.pruned, c.now, time.Hour) {
		return
	}
	if n, err := s.tokens.PruneTokens(c.ctx, c.now.Add(-s.opts.TokenTTL)); err != nil {
		s.log.Warn("api: pruning ClientToken answers", "err", err)
	} else if n > 0 {
		s.log.Debug("api: pruned ClientToken answers", "count", n)
	}
}
