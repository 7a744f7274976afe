package api

import (
	"context"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// The interfaces below are what the actions reach, one per role, each
// named by who uses it. A Server holds each in its own field, so a
// handler's code shows by its fields what it reads and changes, and a test
// of that handler fakes only those few methods. Store and Authority are
// their unions, the shapes New takes: *db.Store and *ca.Authority satisfy
// them.

// StatusReader is what the status actions read:
// DescribeClientCertificateStatus (Statuses) and
// DescribeClientCertificateStatusForSerialNumber (BySerial).
type StatusReader interface {
	// Statuses returns the status facts of ids, in order: an identifier
	// nothing is stored under yields the zero StatusFacts (Unknown).
	Statuses(ctx context.Context, ids []certs.Identifier) ([]certs.StatusFacts, error)
	// BySerial returns every leaf certificate with serial, from any
	// issuer, deleted ones included.
	BySerial(ctx context.Context, serial certs.Serial) ([]certs.Record, error)
}

// CertReader is what the certificate descriptions and listings read
// (DescribeClientCertificate[ForSerialNumber], List*, ListTagResources,
// the private-key export and DeleteClientCertificate's check), and the
// certificate counts and revoked serials of the CA views.
type CertReader interface {
	// Get returns certificate id, deleted or not (Record.Deleted), or an
	// error wrapping certs.ErrNotFound.
	Get(ctx context.Context, id certs.Identifier) (certs.Record, error)
	// BySerial is StatusReader.BySerial.
	BySerial(ctx context.Context, serial certs.Serial) ([]certs.Record, error)
	// List returns the certificates matching f, newest first, and the
	// identifier to pass as f.After for the next page ("" at the end); an
	// f.After nothing is stored under wraps certs.ErrNotFound.
	List(ctx context.Context, f certs.Filter) ([]certs.Record, certs.Identifier, error)
	// Count returns how many certificates match f (paging ignored).
	Count(ctx context.Context, f certs.Filter) (int, error)
}

// CAReader is what reads CAs: the CA descriptions and listings, the
// parent a sub CA defaults to, the subject a leaf inherits, the tag
// listing and every action that names a CA.
type CAReader interface {
	// CA returns CA id, or an error wrapping certs.ErrNotFound.
	CA(ctx context.Context, id certs.Identifier) (certs.CA, error)
	// CAs returns every CA.
	CAs(ctx context.Context) ([]certs.CA, error)
}

// CRLReader is what GetCaInstanceCrlAddress reads.
type CRLReader interface {
	// CRL returns the stored CRL record of CA id (certs.ErrNotFound when
	// none was ever made): GetCaInstanceCrlAddress reports its nextUpdate.
	CRL(ctx context.Context, id certs.Identifier) (certs.CRL, error)
}

// CALogReader is what ListCACertificateLog reads.
type CALogReader interface {
	// CAAudit calls fn for the audit events about CA id, newest first,
	// until fn returns false.
	CAAudit(ctx context.Context, id certs.Identifier, fn func(certs.AuditEvent) bool) error
}

// Changer is what the actions that edit stored certificates and CAs
// change directly, without the CA: DeleteClientCertificate (Delete),
// UpdatePcaCertificate, TagResources, UntagResources and MoveResourceGroup
// (UpdateRecord, UpdateCA). Each call is one durable, audited transaction.
type Changer interface {
	// UpdateRecord applies fn to certificate id and returns the result;
	// an error from fn aborts the update and is returned as is.
	UpdateRecord(ctx context.Context, id certs.Identifier, fn func(*certs.Record) error) (certs.Record, error)
	// UpdateCA applies fn to CA id and returns the result; an error from
	// fn aborts the update and is returned as is.
	UpdateCA(ctx context.Context, id certs.Identifier, fn func(*certs.CA) error) (certs.CA, error)
	// Delete hides certificate id from listings; its status answers stay.
	// A deleted or unknown certificate fails with certs.ErrNotFound.
	Delete(ctx context.Context, id certs.Identifier, at time.Time) (certs.Record, error)
}

// AccessKeyReader is what authentication reads, for every request.
type AccessKeyReader interface {
	// AccessKey returns the access key with this AccessKeyId, or an
	// error wrapping certs.ErrNotFound.
	AccessKey(ctx context.Context, id string) (certs.AccessKey, error)
}

// TokenStore keeps the ClientToken answers of the idempotent actions.
type TokenStore interface {
	// Token returns the value stored under key and when it was stored,
	// or an error wrapping certs.ErrNotFound.
	Token(ctx context.Context, key string) ([]byte, time.Time, error)
	// PutToken stores value under key at time at; an existing key fails
	// with certs.ErrExists and keeps its value.
	PutToken(ctx context.Context, key string, value []byte, at time.Time) error
	// PruneTokens deletes the tokens stored before cutoff and returns
	// how many.
	PruneTokens(ctx context.Context, cutoff time.Time) (int, error)
}

// NonceStore keeps the signature nonces of the actions that change state,
// so that a replay stays refused after a restart.
type NonceStore interface {
	// UseNonce records a state-changing call's nonce durably until expires
	// and reports whether it was fresh (check and insert in one write).
	UseNonce(ctx context.Context, accessKeyID, nonce string, expires time.Time) (bool, error)
	// PruneNonces deletes at most limit nonces that expired before cutoff.
	PruneNonces(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// KeyExportAuditor is what DescribeCertificatePrivateKey records before
// the key leaves.
type KeyExportAuditor interface {
	// AuditKeyExport appends the audit event of a private-key export by
	// the actor ctx carries, durably.
	AuditKeyExport(ctx context.Context, r certs.Record) error
}

// Store is what the API reads and changes directly: every role above.
// *db.Store satisfies it.
type Store interface {
	StatusReader
	CertReader
	CAReader
	CRLReader
	CALogReader
	Changer
	AccessKeyReader
	TokenStore
	NonceStore
	KeyExportAuditor
}

// Issuer is what the create actions call: Create*Certificate[WithCsr],
// CreateCustomCertificate, CreateRootCACertificate, CreateSubCACertificate.
type Issuer interface {
	// Issue signs and stores a client or server certificate under
	// req.Issuer.
	Issue(ctx context.Context, req certs.IssueRequest) (certs.Issued, error)
	// CreateRoot creates and stores a self-signed root CA.
	CreateRoot(ctx context.Context, req certs.RootRequest) (certs.CA, error)
	// CreateSub creates and stores a sub CA signed by req.Parent.
	CreateSub(ctx context.Context, req certs.SubRequest) (certs.CA, error)
}

// Revoker is what the revocation and CA status actions call:
// CreateRevokeClientCertificate (Revoke) and UpdateCACertificateStatus
// (RevokeCA, SetCADisabled).
type Revoker interface {
	// Revoke revokes certificate id for reason at time at and returns the
	// revoked record; revoking twice fails with certs.ErrAlreadyRevoked.
	Revoke(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time) (certs.Record, error)
	// RevokeCA revokes CA id for reason at time at.
	RevokeCA(ctx context.Context, id certs.Identifier, reason certs.Reason, at time.Time) (certs.CA, error)
	// SetCADisabled stops (true) or resumes (false) issuance by CA id.
	SetCADisabled(ctx context.Context, id certs.Identifier, disabled bool) (certs.CA, error)
}

// ChainReader is what the actions that show a certificate chain call:
// DescribeClientCertificate, the CA descriptions and
// CreateSubCACertificate.
type ChainReader interface {
	// Chain returns CA id and its ancestors, id first, the root last.
	Chain(ctx context.Context, id certs.Identifier) ([]certs.CA, error)
}

// KeyOpener is what DescribeCertificatePrivateKey calls.
type KeyOpener interface {
	// PrivateKey returns the PKCS#8 DER of r's private key, or an error
	// wrapping certs.ErrNotFound when the CA never held it (a CSR).
	PrivateKey(r certs.Record) ([]byte, error)
}

// Authority is the CA the create, revoke and describe actions use: every
// role above. *ca.Authority satisfies it.
type Authority interface {
	Issuer
	Revoker
	ChainReader
	KeyOpener
}
