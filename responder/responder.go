package responder

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
)

// Source is what the responder reads and caches. *db.Store satisfies it.
type Source interface {
	LookupStatus(ctx context.Context, issuer certs.Identifier, serial certs.Serial) (certs.Record, error)
	OCSPResponse(ctx context.Context, issuer certs.Identifier, serial certs.Serial, h crypto.Hash) (certs.OCSPResponse, error)
	PutOCSPResponses(ctx context.Context, rs ...certs.OCSPResponse) (int, error)
	OCSPResponsesDue(ctx context.Context, cutoff time.Time, after []byte, limit int, fn func(certs.OCSPResponse) error) ([]byte, error)
	// The allocation-free reads of the quick path (see fast.go).
	presigned
}

// Validity bounds (CA/B BRs 4.9.10, Microsoft root program): 8 hours to 7
// days.
const (
	MinValidity = 8 * time.Hour
	MaxValidity = 7 * 24 * time.Hour
)

// Options configures a Responder. A nil *Options means the defaults.
type Options struct {
	// Validity is the nextUpdate − thisUpdate of every response, 8h..7d.
	// If zero, 24 hours.
	Validity time.Duration
	// RefreshAfter is the age at which the background refresh re-signs a
	// pre-signed response: at least a minute, at most half of Validity. If
	// zero, a third of Validity.
	RefreshAfter time.Duration
	// RefreshShare is the share of time a refresh pass spends signing; it
	// sleeps the rest, so that re-signing a large store leaves the serving
	// core to the answers. In (0, 1]; if zero, 0.05.
	RefreshShare float64
	// ByName makes the ResponderID byName; the default is byKey.
	ByName bool
	// UnknownAsRevoked answers serials an issuer never issued as revoked
	// (certificateHold, revocationTime 1970-01-01, with the extended-revoke
	// extension), as RFC 6960 §2.2 allows; the default is unknown.
	UnknownAsRevoked bool
	// MaxLiveSigning caps concurrent signing for requests that cannot be
	// served pre-signed (nonces, several CertIDs, first use); more get
	// tryLater. If zero, 64.
	MaxLiveSigning int
	// PathPrefix is stripped from GET paths ("/ocsp"); default none.
	PathPrefix string
	// Issuers returns the CAs to answer for. It is called by New, by
	// Reload, and when a request names an issuer not yet known (at most
	// once a second), so CAs created while serving are answered at once.
	Issuers func(ctx context.Context) ([]Issuer, error)
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger gets one line per reload and refresh pass, and per-request
	// lines at debug. If nil, discarded.
	Logger *slog.Logger
	// Metrics, if set, receives the answer, signing and refresh metrics.
	Metrics *Metrics
}

// Responder answers OCSP requests from a Source.
type Responder struct {
	src    Source
	opts   Options
	log    *slog.Logger
	issues atomic.Pointer[issuerSet]
	live   chan struct{}

	reloadMu   sync.Mutex
	lastReload time.Time
	reloadRun  sync.Mutex    // serialises Reload
	cacheWrite chan struct{} // bounds background cache writes
	writes     sync.WaitGroup
	m          *Metrics
	started    time.Time
	lastPass   atomic.Int64                               // unix nanoseconds of the last completed refresh pass
	pause      func(context.Context, time.Duration) error // between refresh batches (tests watch it)
}

// issuerSet indexes the issuers by CertID hashes. Several CAs can share a
// CertID's hashes (a renewed CA certificate with the same name and key):
// the one that issued the serial answers.
type issuerSet struct {
	byID   map[certs.Identifier]*issuerState
	byHash map[string][]*issuerState // hash ‖ nameHash ‖ keyHash
	byName map[string][]*issuerState // hash ‖ nameHash, for empty key hashes
	// byPrefix finds the issuer of a canonical CertID by the exact bytes
	// of its fields before the serial, for the quick path.
	byPrefix map[string]quickIssuer
}

func hashKey(h crypto.Hash, parts ...[]byte) string {
	var b bytes.Buffer
	b.WriteByte(byte(h))
	for _, p := range parts {
		b.Write(p)
	}
	return b.String()
}

// New returns a Responder and loads its issuers.
func New(ctx context.Context, src Source, opts *Options) (*Responder, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Validity == 0 {
		o.Validity = 24 * time.Hour
	}
	if o.Validity < MinValidity || o.Validity > MaxValidity {
		return nil, fmt.Errorf("responder: validity %v is outside %v..%v (CA/B BRs, Microsoft root program)", o.Validity, MinValidity, MaxValidity)
	}
	if o.RefreshAfter == 0 {
		o.RefreshAfter = o.Validity / 3
	}
	if o.RefreshAfter < time.Minute || o.RefreshAfter > o.Validity/2 {
		return nil, fmt.Errorf("responder: refresh after %v is outside 1m..%v (half the validity)", o.RefreshAfter, o.Validity/2)
	}
	if o.RefreshShare == 0 {
		o.RefreshShare = 0.05
	}
	if o.RefreshShare < 0 || o.RefreshShare > 1 {
		return nil, fmt.Errorf("responder: refresh share %v is outside (0, 1]", o.RefreshShare)
	}
	if o.MaxLiveSigning == 0 {
		o.MaxLiveSigning = 64
	}
	if o.MaxLiveSigning < 1 {
		return nil, fmt.Errorf("responder: MaxLiveSigning %d", o.MaxLiveSigning)
	}
	if o.Issuers == nil {
		return nil, errors.New("responder: Options.Issuers is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Responder{src: src, opts: o, log: o.Logger, live: make(chan struct{}, o.MaxLiveSigning), cacheWrite: make(chan struct{}, 8),
		m: o.Metrics, started: time.Now(), pause: sleep}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload asks Options.Issuers for the CAs and their signers again (after a
// CA is created or a responder certificate rotated).
//
// Reloads are serialised, so the set stored last is always the newest.
func (r *Responder) Reload(ctx context.Context) error {
	r.reloadRun.Lock()
	defer r.reloadRun.Unlock()
	list, err := r.opts.Issuers(ctx)
	if err != nil {
		return fmt.Errorf("responder: issuers: %w", err)
	}
	set := &issuerSet{byID: map[certs.Identifier]*issuerState{}, byHash: map[string][]*issuerState{}, byName: map[string][]*issuerState{},
		byPrefix: map[string]quickIssuer{}}
	for _, is := range list {
		st, err := newIssuerState(is, r.opts.ByName)
		if err != nil {
			return err
		}
		set.byID[is.ID] = st
		for _, h := range hashes {
			k := hashKey(h, st.nameHash[h], st.keyHash[h])
			set.byHash[k] = append(set.byHash[k], st)
			n := hashKey(h, st.nameHash[h])
			set.byName[n] = append(set.byName[n], st)
			p, err := st.certIDPrefix(h)
			if err != nil {
				return err
			}
			if _, dup := set.byPrefix[string(p)]; dup {
				set.byPrefix[string(p)] = quickIssuer{} // which one issued the serial is for Respond to find
			} else {
				set.byPrefix[string(p)] = quickIssuer{st: st, hash: h}
			}
		}
	}
	r.issues.Store(set)
	r.log.Debug("OCSP issuers loaded", "count", len(list))
	return nil
}

// reloadSoon reloads at most once a second, for requests naming an issuer
// not known yet. The slot is claimed before reloading, so a burst of such
// requests (anyone can send one) causes one reload, not one each.
func (r *Responder) reloadSoon(ctx context.Context) bool {
	r.reloadMu.Lock()
	due := time.Since(r.lastReload) >= time.Second // real time: the limit is about load
	if due {
		r.lastReload = time.Now()
	}
	r.reloadMu.Unlock()
	if !due {
		return false
	}
	if err := r.Reload(ctx); err != nil {
		r.log.Warn("OCSP issuer reload failed", "err", err)
		return false
	}
	return true
}

// Issuer returns the issuer state for a CA, for pre-signing.
func (r *Responder) issuer(ctx context.Context, id certs.Identifier) *issuerState {
	if st := r.issues.Load().byID[id]; st != nil {
		return st
	}
	if r.reloadSoon(ctx) {
		return r.issues.Load().byID[id]
	}
	return nil
}

// match finds the issuer of a CertID: by name and key hash, or by name
// alone when the key hash is empty or zero (Windows CryptoAPI).
func (r *Responder) match(ctx context.Context, id CertID) *issuerState {
	pick := func(c []*issuerState) *issuerState {
		if len(c) == 1 {
			return c[0]
		}
		// Several CAs match: take the one that issued the serial.
		for _, st := range c {
			if _, err := r.src.LookupStatus(ctx, st.ID, certs.SerialFromBig(id.Serial)); err == nil {
				return st
			}
		}
		return c[0]
	}
	for attempt := 0; attempt < 2; attempt++ {
		set := r.issues.Load()
		if c := set.byHash[hashKey(id.Hash, id.NameHash, id.KeyHash)]; len(c) > 0 {
			return pick(c)
		}
		if zeroOrEmpty(id.KeyHash) {
			if c := set.byName[hashKey(id.Hash, id.NameHash)]; len(c) > 0 {
				return pick(c)
			}
		}
		if attempt == 0 && !r.reloadSoon(ctx) {
			break
		}
	}
	return nil
}

func zeroOrEmpty(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Errors of the answer path; the HTTP layer maps them to OCSP statuses.
// A request whose CertID uses a hash we do not serve is errUnauthorized
// wrapping its *RequestError (reason ReasonUnsupportedHash), so that the
// HTTP layer can name the cause with errors.As.
var (
	errUnauthorized = errors.New("responder: issuer not served")
	errTryLater     = errors.New("responder: signing capacity exhausted")
)

// Answer is the outcome of one request, for headers, logs and metrics.
type Answer struct {
	DER        []byte
	Cached     bool      // served pre-signed
	ThisUpdate time.Time // of the (first) SingleResponse
	NextUpdate time.Time
	Statuses   []certs.Status
	Nonce      bool
}

// Respond answers a DER OCSP request. Errors are *RequestError
// (malformedRequest), errUnauthorized (possibly wrapping a *RequestError
// for an unsupported hash), errTryLater or anything else (internalError).
func (r *Responder) Respond(ctx context.Context, der []byte) (Answer, error) {
	req, err := ParseRequest(der)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) && re.Reason == ReasonUnsupportedHash {
			return Answer{}, fmt.Errorf("%w: %w", errUnauthorized, err)
		}
		return Answer{}, err
	}
	issuers := make([]*issuerState, len(req.CertIDs))
	var signer *issuerState
	for i, id := range req.CertIDs {
		issuers[i] = r.match(ctx, id)
		if signer == nil && issuers[i] != nil {
			signer = issuers[i]
		}
	}
	if signer == nil {
		return Answer{}, errUnauthorized
	}
	now := r.opts.Now()
	if len(req.CertIDs) == 1 && !req.HasNonce {
		if a, ok := r.cached(ctx, signer, req.CertIDs[0], now); ok {
			return a, nil
		}
		if a, ok := r.cachedUnknown(ctx, signer, req.CertIDs[0], now); ok {
			return a, nil
		}
	}
	select {
	case r.live <- struct{}{}:
		defer func() { <-r.live }()
	default:
		return Answer{}, errTryLater
	}
	var singles []single
	var answered []CertID
	extRevoke := false
	for i, id := range req.CertIDs {
		// One response has one signer: CertIDs of another issuer are left
		// out rather than answered by a key not authorised for them (an
		// "unknown" signed here could be replayed as an answer about a
		// certificate of that issuer).
		if issuers[i] != signer {
			continue
		}
		s, ext, err := r.decide(ctx, signer, id, now)
		if err != nil {
			return Answer{}, err
		}
		s.certID = id.Raw
		singles = append(singles, s)
		answered = append(answered, id)
		extRevoke = extRevoke || ext
	}
	var nonce []byte
	if req.HasNonce {
		nonce = req.Nonce
	}
	t0 := time.Now()
	out, err := signer.sign(singles, now, nonce, extRevoke)
	if err != nil {
		return Answer{}, err
	}
	r.m.signed(time.Since(t0))
	a := Answer{DER: out, ThisUpdate: singles[0].thisUpdate, NextUpdate: singles[0].nextUpdate, Nonce: req.HasNonce}
	for _, s := range singles {
		a.Statuses = append(a.Statuses, s.status)
	}
	// Remember a single canonical answer without a nonce for the next asker:
	// in the store, or in memory for an unknown serial.
	if len(req.CertIDs) == 1 && !req.HasNonce && !extRevoke {
		if canon, err := signer.certIDFor(answered[0].Hash, answered[0].Serial); err == nil && bytes.Equal(canon, answered[0].Raw) {
			if singles[0].status == certs.Unknown {
				signer.unknowns.put(canon, a)
			} else {
				r.store(certs.OCSPResponse{Issuer: signer.ID, Serial: certs.SerialFromBig(answered[0].Serial), Hash: answered[0].Hash,
					Status: singles[0].status, DER: out, ThisUpdate: singles[0].thisUpdate, NextUpdate: singles[0].nextUpdate})
			}
		}
	}
	return a, nil
}

// window returns thisUpdate and nextUpdate for a response signed now by
// st: Validity long, never past the signer's notAfter.
func (r *Responder) window(st *issuerState, now time.Time) (time.Time, time.Time) {
	this := generalized(now)
	next := this.Add(r.opts.Validity)
	if next.After(st.signerNotAfter) {
		next = generalized(st.signerNotAfter)
	}
	return this, next
}

// decide builds the SingleResponse for one CertID (certID left to the
// caller). ext reports that the extended-revoke extension is needed.
func (r *Responder) decide(ctx context.Context, st *issuerState, id CertID, now time.Time) (single, bool, error) {
	this, next := r.window(st, now)
	s := single{thisUpdate: this, nextUpdate: next, status: certs.Unknown}
	rec, err := r.src.LookupStatus(ctx, st.ID, certs.SerialFromBig(id.Serial))
	switch {
	case errors.Is(err, certs.ErrNotFound):
		if r.opts.UnknownAsRevoked {
			s.status, s.revokedAt, s.reason = certs.Revoked, time.Unix(0, 0), certs.CertificateHold
			return s, true, nil
		}
		return s, false, nil
	case err != nil:
		return s, false, err
	}
	a, err := rec.StatusAt(now)
	if err != nil {
		return s, false, fmt.Errorf("responder: CA %s serial %s: %w", st.ID, rec.Serial, err)
	}
	s.status, s.revokedAt, s.reason = a.Status, a.RevokedAt, a.Reason
	return s, false, nil
}

// cached serves a pre-signed response when one is current and its CertID
// is exactly the request's.
func (r *Responder) cached(ctx context.Context, st *issuerState, id CertID, now time.Time) (Answer, bool) {
	canon, err := st.certIDFor(id.Hash, id.Serial)
	if err != nil || !bytes.Equal(canon, id.Raw) {
		return Answer{}, false
	}
	o, err := r.src.OCSPResponse(ctx, st.ID, certs.SerialFromBig(id.Serial), id.Hash)
	if err != nil || !current(o.ThisUpdate, o.NextUpdate, now) {
		return Answer{}, false
	}
	return Answer{DER: o.DER, Cached: true, ThisUpdate: o.ThisUpdate, NextUpdate: o.NextUpdate, Statuses: []certs.Status{o.Status}}, true
}

// cachedUnknown serves a remembered "unknown" answer for a canonical
// CertID while it is current and the serial is still not in the store (a
// certificate imported since is answered from its record, not from here).
func (r *Responder) cachedUnknown(ctx context.Context, st *issuerState, id CertID, now time.Time) (Answer, bool) {
	a, ok := st.unknowns.current(id.Raw, now)
	if !ok {
		return Answer{}, false
	}
	if _, err := r.src.LookupStatus(ctx, st.ID, certs.SerialFromBig(id.Serial)); !errors.Is(err, certs.ErrNotFound) {
		st.unknowns.drop(id.Raw)
		return Answer{}, false
	}
	a.Cached = true
	return a, true
}

// unknownCacheSize bounds the remembered unknown answers per issuer (about
// 1 KiB each): a scan over random serials empties it when it is full, so it
// costs signatures again, never memory.
const unknownCacheSize = 4096

type unknownCache struct {
	mu sync.Mutex
	m  map[string]Answer
}

func (c *unknownCache) get(certID []byte) (Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[string(certID)]
	return a, ok
}

// current returns the remembered answer for certID if it may be served at
// now; whether the serial is still unknown is for the caller to check.
func (c *unknownCache) current(certID []byte, now time.Time) (Answer, bool) {
	a, ok := c.get(certID)
	return a, ok && current(a.ThisUpdate, a.NextUpdate, now)
}

func (c *unknownCache) put(certID []byte, a Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]Answer)
	}
	if len(c.m) >= unknownCacheSize {
		c.m = make(map[string]Answer) // start over: old entries are the likeliest stale
	}
	c.m[string(certID)] = a
}

func (c *unknownCache) drop(certID []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, string(certID))
}

// store writes a freshly signed response in the background (bounded), so
// the asker does not wait for an fsync.
func (r *Responder) store(o certs.OCSPResponse) {
	select {
	case r.cacheWrite <- struct{}{}:
	default:
		return // busy: the next asker signs again
	}
	r.writes.Add(1)
	go func() {
		defer r.writes.Done()
		defer func() { <-r.cacheWrite }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := r.src.PutOCSPResponses(ctx, o); err != nil {
			r.log.Warn("caching an OCSP response failed", "issuer", o.Issuer, "serial", o.Serial, "err", err)
		}
	}()
}

// Ready reports why the responder cannot answer as it should: it needs a
// signer for every CA the store holds, and the background refresh must
// have completed within half the response validity (pre-signed answers
// would otherwise go stale beyond policy).
func (r *Responder) Ready(ids []certs.Identifier) error {
	set := r.issues.Load()
	for _, id := range ids {
		if set.byID[id] == nil {
			return fmt.Errorf("responder: no OCSP signer loaded for CA %s", id)
		}
	}
	last := r.started
	if n := r.lastPass.Load(); n != 0 {
		last = time.Unix(0, n)
	}
	if since := time.Since(last); since > r.opts.Validity/2 {
		return fmt.Errorf("responder: pre-signed OCSP answers not refreshed for %v (policy: within %v)", since.Round(time.Second), r.opts.Validity/2)
	}
	return nil
}

// Wait waits for background cache writes to finish; call it after the
// listener has stopped and before the store is closed.
func (r *Responder) Wait() { r.writes.Wait() }

// Presign signs the SHA-1 response for a certificate being issued or
// revoked (ca.Options.Presign), to be stored with the record.
func (r *Responder) Presign(ctx context.Context, rec certs.Record) ([]certs.OCSPResponse, error) {
	st := r.issuer(ctx, rec.Issuer)
	if st == nil {
		return nil, fmt.Errorf("responder: no signer for CA %s", rec.Issuer)
	}
	serial, ok := rec.Serial.Big()
	if !ok {
		return nil, fmt.Errorf("responder: serial %q", rec.Serial)
	}
	return r.signFor(st, rec, serial, crypto.SHA1)
}

// signFor signs rec's current status for CertID hash h.
func (r *Responder) signFor(st *issuerState, rec certs.Record, serial *big.Int, h crypto.Hash) ([]certs.OCSPResponse, error) {
	now := r.opts.Now()
	this, next := r.window(st, now)
	a, err := rec.StatusAt(now)
	if err != nil {
		return nil, fmt.Errorf("responder: CA %s serial %s: %w", st.ID, rec.Serial, err)
	}
	id, err := st.certIDFor(h, serial)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	der, err := st.sign([]single{{certID: id, status: a.Status, revokedAt: a.RevokedAt, reason: a.Reason, thisUpdate: this, nextUpdate: next}}, now, nil, false)
	if err != nil {
		return nil, err
	}
	r.m.signed(time.Since(t0))
	return []certs.OCSPResponse{{Issuer: st.ID, Serial: rec.Serial, Hash: h, Status: a.Status, DER: der, ThisUpdate: this, NextUpdate: next}}, nil
}

// Error answers (RFC 6960 §2.3), as x/crypto pre-serialises them.
var (
	malformedRequest = ocsp.MalformedRequestErrorResponse
	internalError    = ocsp.InternalErrorErrorResponse
	tryLater         = ocsp.TryLaterErrorResponse
	unauthorized     = ocsp.UnauthorizedErrorResponse
)
