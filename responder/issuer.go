package responder

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/certs"
)

// Issuer is a CA the responder answers for, and how it signs.
type Issuer struct {
	ID   certs.Identifier
	Cert *x509.Certificate // the CA certificate
	// Signer signs the responses: a delegated responder's key, or the CA's
	// own key when SignerCert is nil.
	Signer crypto.Signer
	// SignerCert is the delegated responder certificate (id-kp-OCSPSigning),
	// included in every response; nil when the CA signs itself.
	SignerCert *x509.Certificate
}

// hashes are the algorithms CertIDs may use (RFC 9919 adds SHA-256+).
var hashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}

var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1: oidSHA1, crypto.SHA256: oidSHA256, crypto.SHA384: oidSHA384, crypto.SHA512: oidSHA512,
}

// issuerState is an Issuer prepared for answering: its CertID hashes for
// every algorithm and everything constant in its responses.
type issuerState struct {
	Issuer
	// unknowns keeps signed "unknown" answers by canonical CertID, so that
	// repeated asks about serials this issuer never issued cost a lookup,
	// not a signature. Bounded; dropped with the issuer set on reload.
	unknowns unknownCache
	nameHash map[crypto.Hash][]byte
	keyHash  map[crypto.Hash][]byte
	// responderID is the encoded ResponderID (byKey [2] or byName [1]).
	responderID []byte
	// sigAlg is the encoded AlgorithmIdentifier of the signature, sigHash
	// the digest signed (0 for Ed25519), sigOpts the signer options.
	sigAlg  []byte
	sigHash crypto.Hash
	sigOpts crypto.SignerOpts
	// certs is the encoded [0] EXPLICIT SEQUENCE OF Certificate, or nil.
	certs []byte
	// signerNotAfter bounds every nextUpdate: no response outlives its
	// signer.
	signerNotAfter time.Time
}

// spkiBits returns the subjectPublicKey BIT STRING contents of a
// certificate: the bytes RFC 6960 §4.1.1 hashes for issuerKeyHash (never
// the SKI extension, which is often something else).
func spkiBits(c *x509.Certificate) ([]byte, error) {
	spki := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var seq, alg cryptobyte.String
	var bits asn1.BitString
	if !spki.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !seq.ReadASN1BitString(&bits) {
		return nil, errors.New("responder: cannot read the issuer's subjectPublicKeyInfo")
	}
	return bits.Bytes, nil
}

func newIssuerState(is Issuer, byName bool) (*issuerState, error) {
	if is.Cert == nil || is.Signer == nil {
		return nil, fmt.Errorf("responder: issuer %s needs a certificate and a signer", is.ID)
	}
	st := &issuerState{Issuer: is, nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}}
	key, err := spkiBits(is.Cert)
	if err != nil {
		return nil, err
	}
	for _, h := range hashes {
		hn := h.New()
		hn.Write(is.Cert.RawSubject)
		st.nameHash[h] = hn.Sum(nil)
		hk := h.New()
		hk.Write(key)
		st.keyHash[h] = hk.Sum(nil)
	}
	signerCert := is.Cert
	st.signerNotAfter = is.Cert.NotAfter
	if is.SignerCert != nil {
		signerCert = is.SignerCert
		st.signerNotAfter = is.SignerCert.NotAfter
		var b cryptobyte.Builder
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(is.SignerCert.Raw) })
		})
		if st.certs, err = b.Bytes(); err != nil {
			return nil, err
		}
	}
	if !publicKeyMatches(is.Signer.Public(), signerCert.PublicKey) {
		return nil, fmt.Errorf("responder: issuer %s: the signer's key is not the signing certificate's", is.ID)
	}
	var b cryptobyte.Builder
	if byName {
		b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) { b.AddBytes(signerCert.RawSubject) })
	} else {
		bits, err := spkiBits(signerCert)
		if err != nil {
			return nil, err
		}
		sum := sha1.Sum(bits) // KeyHash is SHA-1 of the key (RFC 6960 §4.2.1)
		b.AddASN1(tagExplicit2, func(b *cryptobyte.Builder) { b.AddASN1OctetString(sum[:]) })
	}
	if st.responderID, err = b.Bytes(); err != nil {
		return nil, err
	}
	st.sigAlg, st.sigHash, st.sigOpts, err = signatureAlgorithm(is.Signer.Public())
	return st, err
}

func publicKeyMatches(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

var (
	oidECDSASHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidEd25519     = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// signatureAlgorithm picks the signature for a key: ECDSA with the hash
// matching the curve, RSA PKCS#1 v1.5 with SHA-256 (SHA-384/512 for larger
// keys), or Ed25519. RSA parameters are NULL, ECDSA and Ed25519 absent
// (RFC 5758, RFC 8410).
func signatureAlgorithm(pub crypto.PublicKey) ([]byte, crypto.Hash, crypto.SignerOpts, error) {
	var (
		oid  asn1.ObjectIdentifier
		h    crypto.Hash
		null bool
	)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			oid, h = oidECDSASHA256, crypto.SHA256
		case elliptic.P384():
			oid, h = oidECDSASHA384, crypto.SHA384
		case elliptic.P521():
			oid, h = oidECDSASHA512, crypto.SHA512
		default:
			return nil, 0, nil, errors.New("responder: unsupported curve")
		}
	case *rsa.PublicKey:
		null = true
		switch n := k.N.BitLen(); {
		case n >= 4096:
			oid, h = oidRSASHA512, crypto.SHA512
		case n >= 3072:
			oid, h = oidRSASHA384, crypto.SHA384
		default:
			oid, h = oidRSASHA256, crypto.SHA256
		}
	case ed25519.PublicKey:
		oid = oidEd25519
	default:
		return nil, 0, nil, fmt.Errorf("responder: unsupported signer key %T", pub)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if null {
			b.AddASN1NULL()
		}
	})
	der, err := b.Bytes()
	if h == 0 {
		return der, 0, crypto.Hash(0), err
	}
	return der, h, h, err
}
