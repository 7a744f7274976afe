package ocspsign

import (
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
)

var (
	// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
	oidBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	// id-pkix-ocsp-nonce (RFC 6960 §4.4.1, RFC 9654).
	oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	// id-pkix-ocsp-extended-revoke (RFC 6960 §4.4.8).
	oidExtendedRevoke = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 9}
)

// Single is one SingleResponse to encode.
type Single struct {
	CertID     []byte // the CertID DER, echoed exactly
	Status     certs.Status
	RevokedAt  time.Time
	Reason     certs.Reason
	ThisUpdate time.Time
	NextUpdate time.Time
}

// CertID encodes the CertID certstatus itself would send for serial under
// hash h: AlgorithmIdentifier with NULL parameters, as OpenSSL and
// x/crypto/ocsp do. Stored answers are signed for this encoding only.
func (s *Signer) CertID(h crypto.Hash, serial *big.Int) ([]byte, error) {
	p, ok := s.prefix[h]
	if !ok {
		return nil, fmt.Errorf("ocspsign: unsupported CertID hash %v", h)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(p)
		b.AddASN1BigInt(serial)
	})
	return b.Bytes()
}

// CertIDPrefix is the canonical encoding of a CertID's fields before the
// serial (hashAlgorithm with NULL parameters, issuerNameHash,
// issuerKeyHash), as CertID writes them. The caller must not modify it.
func (s *Signer) CertIDPrefix(h crypto.Hash) []byte { return s.prefix[h] }

// Window returns thisUpdate and nextUpdate for an answer signed at now:
// Validity long, never past the signer's notAfter.
func (s *Signer) Window(now time.Time) (time.Time, time.Time) {
	this := generalized(now)
	next := this.Add(s.policy.Validity)
	if next.After(s.notAfter) {
		next = generalized(s.notAfter)
	}
	return this, next
}

// Answer signs the answer stored for a certificate: its status at now
// (facts.StatusAt — the one decision), for the canonical CertID under
// hash h, without a nonce.
func (s *Signer) Answer(facts certs.StatusFacts, h crypto.Hash, now time.Time) (certs.OCSPResponse, error) {
	serial, ok := facts.Serial.Big()
	if !ok {
		return certs.OCSPResponse{}, fmt.Errorf("ocspsign: CA %s: serial %q", s.ID, facts.Serial)
	}
	a, err := facts.StatusAt(now)
	if err != nil {
		return certs.OCSPResponse{}, fmt.Errorf("ocspsign: CA %s serial %s: %w", s.ID, facts.Serial, err)
	}
	id, err := s.CertID(h, serial)
	if err != nil {
		return certs.OCSPResponse{}, err
	}
	this, next := s.Window(now)
	der, err := s.Sign([]Single{{CertID: id, Status: a.Status, RevokedAt: a.RevokedAt, Reason: a.Reason, ThisUpdate: this, NextUpdate: next}}, now, nil, false)
	if err != nil {
		return certs.OCSPResponse{}, err
	}
	return certs.OCSPResponse{Issuer: s.ID, Serial: facts.Serial, Hash: h, Status: a.Status, DER: der, ThisUpdate: this, NextUpdate: next}, nil
}

// Sign encodes and signs an OCSPResponse with status successful holding
// singles (RFC 6960 §4.2.1), echoing nonce when non-nil and adding the
// extended-revoke extension (RFC 6960 §4.4.8) when asked.
func (s *Signer) Sign(singles []Single, producedAt time.Time, nonce []byte, extendedRevoke bool) ([]byte, error) {
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(s.responderID)
		b.AddASN1GeneralizedTime(generalized(producedAt))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, sg := range singles {
				addSingle(b, sg)
			}
		})
		if nonce != nil || extendedRevoke {
			b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if nonce != nil {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidNonce)
							// extnValue wraps the nonce OCTET STRING (RFC 9654 §2.1).
							b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
						})
					}
					if extendedRevoke {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidExtendedRevoke)
							b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1NULL() })
						})
					}
				})
			})
		}
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ocspsign: encode response data: %w", err)
	}
	digest := tbsDER
	if s.sigHash != 0 {
		h := s.sigHash.New()
		h.Write(tbsDER)
		digest = h.Sum(nil)
	}
	sig, err := s.Signer.Sign(rand.Reader, digest, s.sigOpts)
	if err != nil {
		return nil, fmt.Errorf("ocspsign: sign: %w", err)
	}
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddBytes(s.sigAlg)
		b.AddASN1BitString(sig)
		b.AddBytes(s.certs)
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ocspsign: encode basic response: %w", err)
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0) // successful
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidBasic)
				b.AddASN1OctetString(basicDER)
			})
		})
	})
	return out.Bytes()
}

var (
	tagGood    = cbasn1.Tag(0).ContextSpecific()
	tagRevoked = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagUnknown = cbasn1.Tag(2).ContextSpecific()
)

func addSingle(b *cryptobyte.Builder, s Single) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(s.CertID)
		switch s.Status {
		case certs.Good:
			b.AddASN1(tagGood, func(*cryptobyte.Builder) {})
		case certs.Revoked:
			b.AddASN1(tagRevoked, func(b *cryptobyte.Builder) {
				b.AddASN1GeneralizedTime(generalized(s.RevokedAt))
				// RFC 5280 §5.3.1: omit the reason rather than say unspecified.
				if s.Reason != certs.Unspecified {
					b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(s.Reason)) })
				}
			})
		default:
			b.AddASN1(tagUnknown, func(*cryptobyte.Builder) {})
		}
		b.AddASN1GeneralizedTime(generalized(s.ThisUpdate))
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1GeneralizedTime(generalized(s.NextUpdate)) })
	})
}
