package responder

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
	// id-pkix-ocsp-extended-revoke (RFC 6960 §4.4.8).
	oidExtendedRevoke = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 9}
)

// single is one SingleResponse to encode.
type single struct {
	certID     []byte // the CertID DER, echoed exactly
	status     certs.Status
	revokedAt  time.Time
	reason     certs.Reason
	thisUpdate time.Time
	nextUpdate time.Time
}

// certIDFor encodes the CertID certstatus itself would send for serial
// under hash h: AlgorithmIdentifier with NULL parameters, as OpenSSL and
// x/crypto/ocsp do.
func (st *issuerState) certIDFor(h crypto.Hash, serial *big.Int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(hashOIDs[h])
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(st.nameHash[h])
		b.AddASN1OctetString(st.keyHash[h])
		b.AddASN1BigInt(serial)
	})
	return b.Bytes()
}

// generalized returns t as RFC 5280 GeneralizedTime wants it: UTC, whole
// seconds.
func generalized(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// sign encodes and signs an OCSPResponse with status successful holding
// singles (RFC 6960 §4.2.1), echoing nonce when non-nil.
func (st *issuerState) sign(singles []single, producedAt time.Time, nonce []byte, extendedRevoke bool) ([]byte, error) {
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(st.responderID)
		b.AddASN1GeneralizedTime(generalized(producedAt))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, s := range singles {
				addSingle(b, s)
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
		return nil, fmt.Errorf("responder: encode response data: %w", err)
	}
	digest := tbsDER
	if st.sigHash != 0 {
		h := st.sigHash.New()
		h.Write(tbsDER)
		digest = h.Sum(nil)
	}
	sig, err := st.Signer.Sign(rand.Reader, digest, st.sigOpts)
	if err != nil {
		return nil, fmt.Errorf("responder: sign: %w", err)
	}
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddBytes(st.sigAlg)
		b.AddASN1BitString(sig)
		if st.certs != nil {
			b.AddBytes(st.certs)
		}
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, fmt.Errorf("responder: encode basic response: %w", err)
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

func addSingle(b *cryptobyte.Builder, s single) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(s.certID)
		switch s.status {
		case certs.Good:
			b.AddASN1(tagGood, func(*cryptobyte.Builder) {})
		case certs.Revoked:
			b.AddASN1(tagRevoked, func(b *cryptobyte.Builder) {
				b.AddASN1GeneralizedTime(generalized(s.revokedAt))
				// RFC 5280 §5.3.1: omit the reason rather than say unspecified.
				if s.reason != certs.Unspecified {
					b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(s.reason)) })
				}
			})
		default:
			b.AddASN1(tagUnknown, func(*cryptobyte.Builder) {})
		}
		b.AddASN1GeneralizedTime(generalized(s.thisUpdate))
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1GeneralizedTime(generalized(s.nextUpdate)) })
	})
}
