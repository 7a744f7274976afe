package certs

import (
	"crypto/x509"
	"fmt"
	"time"
)

// Tag is a key/value label attached to a certificate or CA.
type Tag struct {
	Key   string
	Value string
}

// Record is a leaf certificate certstatus issued or imported, as stored.
type Record struct {
	Identifier Identifier // hex(sha256(DER)[:16])
	Issuer     Identifier // identifier of the issuing CA
	Serial     Serial
	Kind       Kind // KindClient or KindServer
	DER        []byte
	NotBefore  time.Time
	NotAfter   time.Time

	State     State     // StateIssued or StateRevoked
	RevokedAt time.Time // set when State is StateRevoked
	Reason    Reason    // set when State is StateRevoked

	// Deleted hides the certificate from listings. Its revocation facts are
	// kept and keep deciding its status: deleting never un-revokes.
	Deleted   bool
	DeletedAt time.Time

	Alias            string
	CustomIdentifier string // operator-chosen unique key, optional
	ResourceGroupID  string
	Tags             []Tag

	// SealedKey is the private key the CA generated for this certificate,
	// PKCS#8 DER encrypted at rest; nil when the key came from a CSR.
	SealedKey []byte

	CreatedAt time.Time
}

// Answer is the decision [Record.StatusAt] makes for one certificate.
type Answer struct {
	Status    Status
	RevokedAt time.Time // set when Status is Revoked
	Reason    Reason    // set when Status is Revoked
	// Expired is true when the asked time is past NotAfter. An expired
	// certificate that was never revoked is still answered Good, as RFC 6960
	// §2.2 allows; callers that prefer otherwise decide on this flag.
	Expired bool
}

// StatusAt decides the status of r at time t. It is the single function the
// JSON API and the OCSP responder use, so they cannot disagree.
//
// The zero Record (a certificate we do not have) is Unknown. A revoked
// record is Revoked from the moment the revocation was stored, whatever t
// is, so that a clock stepping backwards can never turn a revocation into a
// stale Good. Deletion does not change the answer. A record whose state is
// neither issued nor revoked, or revoked without a time or with a reason no
// revocation carries, is an error wrapping ErrCorrupt, never a status: a
// damaged record must not read as good.
func (r Record) StatusAt(t time.Time) (Answer, error) { return r.Facts().StatusAt(t) }

// Facts is the part of r that StatusAt decides from.
func (r Record) Facts() StatusFacts {
	return StatusFacts{Found: r.Identifier != "", Serial: r.Serial, NotAfter: r.NotAfter,
		State: r.State, RevokedAt: r.RevokedAt, Reason: r.Reason}
}

// StatusFacts is what a status answer needs of a Record and nothing more:
// a batch status query reads a thousand of these, and the full Record
// (certificate, key, names, tags) would be most of its cost. The zero
// value is a certificate we do not have.
type StatusFacts struct {
	Found     bool // false: not a certificate we have
	Serial    Serial
	NotAfter  time.Time
	State     State
	RevokedAt time.Time
	Reason    Reason
}

// StatusAt is [Record.StatusAt] for the record f came from.
func (f StatusFacts) StatusAt(t time.Time) (Answer, error) {
	if !f.Found {
		return Answer{Status: Unknown}, nil
	}
	a := Answer{Status: Good, Expired: !f.NotAfter.IsZero() && t.After(f.NotAfter)}
	switch f.State {
	case StateIssued:
		return a, nil
	case StateRevoked:
		if f.RevokedAt.IsZero() || !f.Reason.Revocable() {
			return Answer{}, fmt.Errorf("%w: certificate with serial %s: revoked at %v for reason %v", ErrCorrupt, f.Serial, f.RevokedAt, f.Reason)
		}
		a.Status = Revoked
		a.RevokedAt = f.RevokedAt
		a.Reason = f.Reason
		return a, nil
	}
	return Answer{}, fmt.Errorf("%w: certificate with serial %s: state %v", ErrCorrupt, f.Serial, f.State)
}

// Certificate parses the stored DER.
func (r Record) Certificate() (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(r.DER)
	if err != nil {
		return nil, fmt.Errorf("certs: record %s: %w", r.Identifier, err)
	}
	return c, nil
}

// Validate checks the invariants every stored record must hold.
func (r Record) Validate() error {
	if !r.Identifier.Valid() {
		return fmt.Errorf("%w record: bad identifier %q", ErrInvalid, r.Identifier)
	}
	if !r.Issuer.Valid() {
		return fmt.Errorf("%w record %s: bad issuer %q", ErrInvalid, r.Identifier, r.Issuer)
	}
	if canon, err := ParseSerial(string(r.Serial)); err != nil || canon != r.Serial {
		return fmt.Errorf("%w record %s: serial %q is not in canonical form (lowercase hex, no leading zeros)", ErrInvalid, r.Identifier, r.Serial)
	}
	if r.Kind != KindClient && r.Kind != KindServer {
		return fmt.Errorf("%w record %s: kind %v is not CLIENT or SERVER", ErrInvalid, r.Identifier, r.Kind)
	}
	if len(r.DER) == 0 {
		return fmt.Errorf("%w record %s: no certificate", ErrInvalid, r.Identifier)
	}
	return validateState(string(r.Identifier), r.State, r.RevokedAt, r.Reason)
}

func validateState(id string, s State, at time.Time, reason Reason) error {
	switch s {
	case StateIssued:
		return nil
	case StateRevoked:
		if at.IsZero() {
			return fmt.Errorf("%w %s: revoked without a revocation time", ErrInvalid, id)
		}
		if !reason.Revocable() {
			return fmt.Errorf("%w %s: revocation reason %v", ErrInvalid, id, reason)
		}
		return nil
	}
	return fmt.Errorf("%w %s: state %v", ErrInvalid, id, s)
}

// CA is a root or subordinate CA, as stored.
type CA struct {
	Identifier Identifier // hex(sha256(DER)[:16])
	Parent     Identifier // issuing CA; empty for a root
	Kind       Kind       // KindRootCA or KindSubCA
	Serial     Serial
	DER        []byte
	NotBefore  time.Time
	NotAfter   time.Time
	// PathLen is the basicConstraints pathLenConstraint; -1 when absent.
	PathLen int

	State     State
	RevokedAt time.Time
	Reason    Reason
	// Disabled stops the CA from issuing without revoking it.
	Disabled bool

	// ExtKeyUsages, when set, limits what the CA signs to these extended
	// key usages (and puts them in its certificate); empty means no limit.
	ExtKeyUsages []EKU
	// CertMaxDays, when above zero, caps the validity of what the CA signs.
	CertMaxDays int

	Alias           string
	ResourceGroupID string
	Tags            []Tag

	// SealedKey is the CA's private key, PKCS#8 DER encrypted at rest.
	SealedKey []byte

	CreatedAt time.Time
}

// Certificate parses the stored DER.
func (c CA) Certificate() (*x509.Certificate, error) {
	x, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return nil, fmt.Errorf("certs: CA %s: %w", c.Identifier, err)
	}
	return x, nil
}

// CanIssueAt reports, as an error wrapping ErrIssuerUnusable, why c may not
// sign at t: revoked, disabled, not yet valid or expired.
func (c CA) CanIssueAt(t time.Time) error {
	switch {
	case c.State == StateRevoked:
		return fmt.Errorf("%w: CA %s is revoked (%v, %s)", ErrIssuerUnusable, c.Identifier, c.Reason, c.RevokedAt.UTC().Format(time.RFC3339))
	case c.Disabled:
		return fmt.Errorf("%w: CA %s is disabled", ErrIssuerUnusable, c.Identifier)
	case t.Before(c.NotBefore):
		return fmt.Errorf("%w: CA %s is not valid before %s", ErrIssuerUnusable, c.Identifier, c.NotBefore.UTC().Format(time.RFC3339))
	case !t.Before(c.NotAfter):
		return fmt.Errorf("%w: CA %s expired at %s", ErrIssuerUnusable, c.Identifier, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// Validate checks the invariants every stored CA must hold.
func (c CA) Validate() error {
	if !c.Identifier.Valid() {
		return fmt.Errorf("%w CA: bad identifier %q", ErrInvalid, c.Identifier)
	}
	switch c.Kind {
	case KindRootCA:
		if c.Parent != "" {
			return fmt.Errorf("%w CA %s: a root has no parent", ErrInvalid, c.Identifier)
		}
	case KindSubCA:
		if !c.Parent.Valid() {
			return fmt.Errorf("%w CA %s: bad parent %q", ErrInvalid, c.Identifier, c.Parent)
		}
	default:
		return fmt.Errorf("%w CA %s: kind %v is not ROOT or SUB_ROOT", ErrInvalid, c.Identifier, c.Kind)
	}
	if len(c.DER) == 0 {
		return fmt.Errorf("%w CA %s: no certificate", ErrInvalid, c.Identifier)
	}
	if c.CertMaxDays < 0 || c.CertMaxDays > 100*366 {
		return fmt.Errorf("%w CA %s: CertMaxDays %d is not 0 to 36600", ErrInvalid, c.Identifier, c.CertMaxDays)
	}
	for _, u := range c.ExtKeyUsages {
		if _, err := ParseEKU(string(u)); err != nil {
			return fmt.Errorf("CA %s: %w", c.Identifier, err)
		}
	}
	return validateState("CA "+string(c.Identifier), c.State, c.RevokedAt, c.Reason)
}

// AccessKey is an API credential in the Alibaba AccessKey style.
type AccessKey struct {
	ID string // AccessKeyId
	// SealedSecret is the AccessKeySecret encrypted at rest. Signatures are
	// HMACs, so the secret itself (not a hash) must be recoverable.
	SealedSecret []byte
	Owner        string // user the key belongs to, for audit and QPS
	Policy       string // RAM policy document (JSON), Version "1"
	QPS          int    // per-key request rate limit; 0 means the default
	Disabled     bool
	CreatedAt    time.Time
}

// Validate checks the invariants every stored access key must hold.
func (k AccessKey) Validate() error {
	if k.ID == "" || len(k.ID) > 128 {
		return fmt.Errorf("%w access key: id must be 1..128 characters", ErrInvalid)
	}
	if len(k.SealedSecret) == 0 {
		return fmt.Errorf("%w access key %s: no secret", ErrInvalid, k.ID)
	}
	if k.QPS < 0 {
		return fmt.Errorf("%w access key %s: negative QPS", ErrInvalid, k.ID)
	}
	return nil
}

// AsRecord returns the status-relevant view of c as a Record, so that a sub
// CA can be answered for by its parent like any certificate.
func (c CA) AsRecord() Record {
	return Record{
		Identifier: c.Identifier,
		Issuer:     c.Parent,
		Serial:     c.Serial,
		Kind:       c.Kind,
		DER:        c.DER,
		NotBefore:  c.NotBefore,
		NotAfter:   c.NotAfter,
		State:      c.State,
		RevokedAt:  c.RevokedAt,
		Reason:     c.Reason,
		CreatedAt:  c.CreatedAt,
	}
}

// Filter selects certificates for listing. Zero fields match all.
type Filter struct {
	Issuer         Identifier
	Kind           Kind
	State          State
	IncludeDeleted bool
	// After resumes a listing after this identifier (exclusive).
	After Identifier
	// Offset skips this many matching records (after After).
	Offset int
	// Limit caps the number of records returned; 0 means no cap.
	Limit int
}

// Match reports whether r passes the filter's Issuer, Kind, State and
// IncludeDeleted conditions (After, Offset and Limit are for paging).
func (f Filter) Match(r Record) bool {
	return (f.Issuer == "" || r.Issuer == f.Issuer) &&
		(f.Kind == KindUnknown || r.Kind == f.Kind) &&
		(f.State == 0 || r.State == f.State) &&
		(f.IncludeDeleted || !r.Deleted)
}
