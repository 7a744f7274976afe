package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	cflog "github.com/cloudflare/cfssl/log"

	"github.com/certstatus/certstatus/certs"
)

// Store is what the CA needs from storage. *db.Store satisfies it.
type Store interface {
	CA(ctx context.Context, id certs.Identifier) (certs.CA, error)
	CAChain(ctx context.Context, id certs.Identifier) ([]certs.CA, error) // id first, up to its root
	CAs(ctx context.Context) ([]certs.CA, error)
	PutCA(ctx context.Context, c certs.CA) error
	UpdateCA(ctx context.Context, id certs.Identifier, fn func(*certs.CA) error) (certs.CA, error)
	Get(ctx context.Context, id certs.Identifier) (certs.Record, error)
	Put(ctx context.Context, r certs.Record, responses ...certs.OCSPResponse) error
	Revoke(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time, responses ...certs.OCSPResponse) (certs.Record, error)
}

// Sealer encrypts private keys at rest; aad binds a sealed key to the
// identifier of its certificate. *keyseal.Sealer satisfies it.
type Sealer interface {
	Seal(aad, plaintext []byte) ([]byte, error)
	Open(aad, sealed []byte) ([]byte, error)
}

// Options configures an Authority. A nil *Options means the defaults.
type Options struct {
	// OCSPURL is put in the AIA extension of issued certificates and sub
	// CAs, e.g. "http://ocsp.example.com". If empty, no OCSP URL is added.
	OCSPURL string
	// CRLBaseURL is the prefix of the CRL distribution point and of the AIA
	// caIssuers URL: certificates issued by CA X carry <CRLBaseURL>/crl/<X>.crl
	// and <CRLBaseURL>/ca/<X>.crt. If empty, neither is added.
	CRLBaseURL string
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// SignerFor returns the signer of a CA. If nil, the CA's sealed
	// software key is opened with the Sealer. Plug a KMS or PKCS#11 key in
	// here.
	SignerFor func(ctx context.Context, c certs.CA) (crypto.Signer, error)
	// Logger receives one line per issuance and revocation. If nil, discarded.
	Logger *slog.Logger
	// OCSP, if set, has the CA sign OCSP answers: stored with each
	// certificate at issuance and in the revocation transaction, re-signed
	// by RunOCSP, with the delegated responder certificates it rotates; the
	// store must then also be an OCSPStore. Nil: the CA signs no answers.
	OCSP *OCSPOptions
	// CRL is the CRL policy. A revocation marks its issuer's CRL stale (a
	// stale CRL is regenerated before it is served) and regenerates it in
	// the background CRLDelay later, sharing the pass with the revocations
	// that come meanwhile. If CRLDelay is zero, one second.
	CRL      CRLPolicy
	CRLDelay time.Duration
}

// Authority creates CAs and issues and revokes certificates.
type Authority struct {
	store    Store
	sealer   Sealer
	opts     Options
	log      *slog.Logger
	signers  sync.Map // certs.Identifier → crypto.Signer
	caCerts  sync.Map // certs.Identifier → *x509.Certificate (an identifier names one DER)
	crlLocks sync.Map // certs.Identifier → *sync.Mutex

	// Background CRL regenerations after revocations, coalesced per CA.
	crlMu   sync.Mutex
	crlJobs map[certs.Identifier]*crlJob
	crlWG   sync.WaitGroup
	crlNow  chan struct{} // Wait cuts the delay short

	ocsp *ocspState // nil without Options.OCSP
}

// New returns an Authority over store, sealing keys with sealer.
func New(store Store, sealer Sealer, opts *Options) (*Authority, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	for _, u := range []string{o.OCSPURL, o.CRLBaseURL} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("ca: %q is not an http(s) URL", u)
		}
	}
	// cfssl logs every CSR and signature at info through its own global
	// logger; keep it to warnings. Our own lines go to Options.Logger.
	cflog.Level = cflog.LevelWarning
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if store == nil || sealer == nil {
		return nil, errors.New("ca: a store and a sealer are required")
	}
	a := &Authority{store: store, sealer: sealer, opts: o, log: o.Logger, crlNow: make(chan struct{})}
	if o.OCSP != nil {
		oo, err := o.OCSP.resolve()
		if err != nil {
			return nil, err
		}
		os, ok := store.(OCSPStore)
		if !ok {
			return nil, fmt.Errorf("ca: Options.OCSP needs a store that keeps responders and OCSP answers (ca.OCSPStore); %T is not one", store)
		}
		a.ocsp = &ocspState{opts: oo, store: os, started: time.Now(), pause: sleep}
	}
	return a, nil
}

func (a *Authority) crlURL(issuer certs.Identifier) string {
	if a.opts.CRLBaseURL == "" {
		return ""
	}
	return strings.TrimSuffix(a.opts.CRLBaseURL, "/") + "/crl/" + string(issuer) + ".crl"
}

func (a *Authority) issuerURL(issuer certs.Identifier) string {
	if a.opts.CRLBaseURL == "" {
		return ""
	}
	return strings.TrimSuffix(a.opts.CRLBaseURL, "/") + "/ca/" + string(issuer) + ".crt"
}

// signer returns the crypto.Signer of CA c.
func (a *Authority) signer(ctx context.Context, c certs.CA) (crypto.Signer, error) {
	if s, ok := a.signers.Load(c.Identifier); ok {
		return s.(crypto.Signer), nil
	}
	var (
		s   crypto.Signer
		err error
	)
	if a.opts.SignerFor != nil {
		s, err = a.opts.SignerFor(ctx, c)
	} else {
		s, err = a.openKey(c.Identifier, c.SealedKey)
	}
	if err != nil {
		return nil, fmt.Errorf("ca: key of CA %s: %w", c.Identifier, err)
	}
	cert, err := c.Certificate()
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(s.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("ca: key of CA %s does not match its certificate", c.Identifier)
	}
	a.signers.Store(c.Identifier, s)
	return s, nil
}

func (a *Authority) openKey(id certs.Identifier, sealed []byte) (crypto.Signer, error) {
	if len(sealed) == 0 {
		return nil, errors.New("no key stored")
	}
	der, err := a.sealer.Open([]byte(id), sealed)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("stored key %T cannot sign", k)
	}
	return s, nil
}

func (a *Authority) sealKey(id certs.Identifier, key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("ca: marshal key: %w", err)
	}
	return a.sealer.Seal([]byte(id), der)
}

// caCert is c's certificate, parsed once: the DER of an identifier never
// changes, and a parse is a tenth of an issuance.
func (a *Authority) caCert(c certs.CA) (*x509.Certificate, error) {
	if x, ok := a.caCerts.Load(c.Identifier); ok {
		return x.(*x509.Certificate), nil
	}
	x, err := c.Certificate()
	if err != nil {
		return nil, err
	}
	a.caCerts.Store(c.Identifier, x)
	return x, nil
}

// caChanged publishes the OCSP signers again after a CA is created,
// imported, revoked, disabled or enabled, issuing the responder
// certificate a new CA needs, so that OCSP answers for it at once.
func (a *Authority) caChanged(ctx context.Context, c certs.CA) {
	if a.ocsp == nil {
		return
	}
	if err := a.ReloadOCSP(ctx); err != nil {
		a.log.Error("OCSP signers after a CA change", "ca", c.Identifier, "err", err)
	}
}

// PrivateKey returns the PKCS#8 DER of the key the CA generated for
// certificate r. It fails with certs.ErrNotFound when the key came from a
// CSR and so was never known to the CA.
func (a *Authority) PrivateKey(r certs.Record) ([]byte, error) {
	if len(r.SealedKey) == 0 {
		return nil, fmt.Errorf("ca: %w: certificate %s was issued from a CSR; its key was never held here", certs.ErrNotFound, r.Identifier)
	}
	return a.sealer.Open([]byte(r.Identifier), r.SealedKey)
}

// Chain returns CA id and its ancestors, issuing CA first, root last.
func (a *Authority) Chain(ctx context.Context, id certs.Identifier) ([]certs.CA, error) {
	return a.store.CAChain(ctx, id)
}

// issuer loads CA id with its chain and checks that it may sign at now:
// it and every ancestor are unrevoked, and it is enabled and within its
// validity.
func (a *Authority) issuer(ctx context.Context, id certs.Identifier, now time.Time) ([]certs.CA, *x509.Certificate, crypto.Signer, error) {
	chain, err := a.Chain(ctx, id)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ca: issuing CA: %w", err)
	}
	if err := chain[0].CanIssueAt(now); err != nil {
		return nil, nil, nil, err
	}
	for _, anc := range chain[1:] {
		if anc.State == certs.StateRevoked {
			return nil, nil, nil, fmt.Errorf("%w: CA %s chains to revoked CA %s", certs.ErrIssuerUnusable, id, anc.Identifier)
		}
		if !now.Before(anc.NotAfter) {
			return nil, nil, nil, fmt.Errorf("%w: CA %s chains to CA %s, expired at %s", certs.ErrIssuerUnusable, id, anc.Identifier, anc.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	cert, err := a.caCert(chain[0])
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := a.signer(ctx, chain[0])
	if err != nil {
		return nil, nil, nil, err
	}
	return chain, cert, s, nil
}

// newSerial returns a positive 128-bit serial number: the time of issue in
// nanoseconds (64 bits) followed by 64 bits from crypto/rand.
//
// The random half is what the CA/Browser Forum Baseline Requirements
// (§7.1) ask of a serial: non-sequential, with at least 64 bits of CSPRNG
// output. The time half makes the serials a CA issues ascend, so that the
// three B+trees keyed by issuer and serial (the issuer+serial and serial
// indexes and the pre-signed answers) take new certificates at their right
// edge: a group commit of many issuances dirties one leaf of each instead
// of one random leaf per certificate in each, and on this machine type
// every random 4 KiB page a commit writes costs ~15 µs of kernel CPU
// (docs/BENCHMARKS.md, "Issuance").
func newSerial() (*big.Int, error) {
	return serialAt(time.Now())
}

func serialAt(t time.Time) (*big.Int, error) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixNano())&(1<<63-1))
	for {
		if _, err := rand.Read(b[8:]); err != nil {
			return nil, fmt.Errorf("ca: serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}
