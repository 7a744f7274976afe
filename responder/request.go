package responder

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/certstatus/certstatus/internal/ocspsign"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MaxCertIDs is the largest number of CertIDs accepted in one request.
// RFC 6960 sets no limit; a bound keeps the work per request small.
const MaxCertIDs = 16

const (
	maxSerialLen = 64  // octets of a serialNumber's contents
	minNonceLen  = 1   // RFC 9654 §2.1
	maxNonceLen  = 128 // RFC 9654 §2.1
)

// Reasons carried by a RequestError. They are short, stable strings meant
// for metric labels and logs.
const (
	ReasonASN1               = "asn1"                // not the DER structure of RFC 6960 §4.1.1
	ReasonTrailingData       = "trailing data"       // bytes after a complete element
	ReasonVersion            = "version"             // version other than v1
	ReasonNoCertID           = "no certid"           // empty requestList
	ReasonTooManyCertIDs     = "too many certids"    // more than MaxCertIDs
	ReasonUnsupportedHash    = "unsupported hash"    // hashAlgorithm not SHA-1/256/384/512
	ReasonNameHashLength     = "name hash length"    // issuerNameHash size differs from the hash's
	ReasonKeyHashLength      = "key hash length"     // issuerKeyHash neither empty nor the hash's size
	ReasonSerial             = "serial"              // serialNumber empty, too long or not DER
	ReasonNonceLength        = "nonce length"        // nonce of 0 or more than 128 octets (RFC 9654)
	ReasonNonceEncoding      = "nonce encoding"      // extnValue is not an OCTET STRING in an OCTET STRING
	ReasonCriticalExtension  = "critical extension"  // an extension we do not know is marked critical
	ReasonDuplicateExtension = "duplicate extension" // the same extnID twice in one Extensions
)

// oidNonce is id-pkix-ocsp-nonce (RFC 6960 §4.4.1, RFC 9654).
var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

var (
	tagExplicit0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagExplicit1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagExplicit2 = cbasn1.Tag(2).Constructed().ContextSpecific()
)

// CertID is one certificate identifier of a request (RFC 6960 §4.1.1).
type CertID struct {
	Hash     crypto.Hash // crypto.SHA1, SHA256, SHA384 or SHA512
	NameHash []byte      // issuerNameHash
	KeyHash  []byte      // issuerKeyHash (may be empty or all zero: Windows CryptoAPI)
	Serial   *big.Int
	Raw      []byte // the CertID's DER exactly as the client sent it, to echo
}

// Request is a parsed OCSPRequest.
type Request struct {
	CertIDs  []CertID // at least one
	Nonce    []byte   // the nonce value (inner OCTET STRING contents), nil if absent
	HasNonce bool
	Signed   bool // an optionalSignature was present (accepted and ignored)
}

// RequestError is returned by ParseRequest for a request that must be
// answered with malformedRequest (RFC 6960 §2.3). Reason is one of the
// Reason constants, usable as a metric label; Msg is for humans.
type RequestError struct {
	Reason, Msg string
}

func (e *RequestError) Error() string {
	return "responder: malformed OCSP request: " + e.Msg
}

func malformed(reason, format string, args ...any) *RequestError {
	return &RequestError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// ParseRequest parses a DER-encoded OCSPRequest (RFC 6960 §4.1.1). Unlike
// x/crypto's ocsp.ParseRequest it keeps every CertID, the raw CertID bytes and
// the RFC 9654 nonce. Every error is a *RequestError. The returned slices do
// not alias der.
//
// The structure must be strict DER with no trailing data anywhere. A version
// other than v1, an empty or over-long requestList, an unknown hash
// algorithm, hashes of the wrong length, a nonce outside 1..128 octets, an
// unknown critical extension or a repeated extension are rejected. An empty
// or all-zero issuerKeyHash (Windows CryptoAPI) is accepted. A requestorName
// and an optionalSignature are accepted and ignored.
func ParseRequest(der []byte) (*Request, error) {
	input := cryptobyte.String(bytes.Clone(der))
	var outer, tbs cryptobyte.String
	if !input.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return nil, malformed(ReasonASN1, "not a DER SEQUENCE")
	}
	if !input.Empty() {
		return nil, malformed(ReasonTrailingData, "%d bytes after the OCSPRequest", len(input))
	}
	if !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed(ReasonASN1, "tbsRequest is not a SEQUENCE")
	}
	req := &Request{}
	var sig cryptobyte.String
	if !outer.ReadOptionalASN1(&sig, &req.Signed, tagExplicit0) {
		return nil, malformed(ReasonASN1, "bad optionalSignature")
	}
	if !outer.Empty() {
		return nil, malformed(ReasonTrailingData, "data after tbsRequest")
	}
	if err := req.parseTBS(tbs); err != nil {
		return nil, err
	}
	return req, nil
}

func (req *Request) parseTBS(tbs cryptobyte.String) error {
	var v cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&v, &present, tagExplicit0) {
		return malformed(ReasonASN1, "bad version")
	}
	if present {
		var version int64
		if !v.ReadASN1Integer(&version) || !v.Empty() {
			return malformed(ReasonASN1, "version is not an INTEGER")
		}
		if version != 0 {
			return malformed(ReasonVersion, "version %d, only v1 (0) is defined", version)
		}
	}

	var name cryptobyte.String
	if !tbs.ReadOptionalASN1(&name, &present, tagExplicit1) {
		return malformed(ReasonASN1, "bad requestorName")
	}
	if present {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !name.ReadAnyASN1Element(&gn, &tag) || !name.Empty() {
			return malformed(ReasonASN1, "requestorName is not one GeneralName")
		}
	}

	var list cryptobyte.String
	if !tbs.ReadASN1(&list, cbasn1.SEQUENCE) {
		return malformed(ReasonASN1, "requestList is not a SEQUENCE")
	}
	if list.Empty() {
		return malformed(ReasonNoCertID, "empty requestList")
	}
	for !list.Empty() {
		if len(req.CertIDs) == MaxCertIDs {
			return malformed(ReasonTooManyCertIDs, "more than %d CertIDs", MaxCertIDs)
		}
		id, err := parseSingleRequest(&list)
		if err != nil {
			return err
		}
		req.CertIDs = append(req.CertIDs, id)
	}

	var exts cryptobyte.String
	if !tbs.ReadOptionalASN1(&exts, &present, tagExplicit2) {
		return malformed(ReasonASN1, "bad requestExtensions")
	}
	if present {
		if err := parseExtensions(exts, "requestExtensions", req); err != nil {
			return err
		}
	}
	if !tbs.Empty() {
		return malformed(ReasonTrailingData, "data after the tbsRequest fields")
	}
	return nil
}

// parseSingleRequest reads one Request ::= SEQUENCE { reqCert CertID,
// singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL } from list.
func parseSingleRequest(list *cryptobyte.String) (CertID, error) {
	var single, raw, exts cryptobyte.String
	var present bool
	if !list.ReadASN1(&single, cbasn1.SEQUENCE) {
		return CertID{}, malformed(ReasonASN1, "requestList entry is not a SEQUENCE")
	}
	if !single.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return CertID{}, malformed(ReasonASN1, "reqCert is not a SEQUENCE")
	}
	if !single.ReadOptionalASN1(&exts, &present, tagExplicit0) {
		return CertID{}, malformed(ReasonASN1, "bad singleRequestExtensions")
	}
	if !single.Empty() {
		return CertID{}, malformed(ReasonTrailingData, "data after reqCert")
	}
	if present {
		if err := parseExtensions(exts, "singleRequestExtensions", nil); err != nil {
			return CertID{}, err
		}
	}
	return parseCertID(raw)
}

// parseCertID parses the DER element raw (tag and length included).
func parseCertID(raw cryptobyte.String) (CertID, error) {
	id := CertID{Raw: []byte(raw)}
	var body, alg cryptobyte.String
	if !raw.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&alg, cbasn1.SEQUENCE) {
		return id, malformed(ReasonASN1, "hashAlgorithm is not a SEQUENCE")
	}
	var oid asn1.ObjectIdentifier
	if !alg.ReadASN1ObjectIdentifier(&oid) {
		return id, malformed(ReasonASN1, "hashAlgorithm has no OBJECT IDENTIFIER")
	}
	h, ok := ocspsign.HashOf(oid)
	if !ok {
		return id, malformed(ReasonUnsupportedHash, "unsupported hash algorithm %v", oid)
	}
	id.Hash = h
	if !alg.Empty() {
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || !null.Empty() || !alg.Empty() {
			return id, malformed(ReasonUnsupportedHash, "hash algorithm %v with parameters other than NULL", oid)
		}
	}

	var nameHash, keyHash cryptobyte.String
	if !body.ReadASN1(&nameHash, cbasn1.OCTET_STRING) {
		return id, malformed(ReasonASN1, "issuerNameHash is not an OCTET STRING")
	}
	if !body.ReadASN1(&keyHash, cbasn1.OCTET_STRING) {
		return id, malformed(ReasonASN1, "issuerKeyHash is not an OCTET STRING")
	}
	size := id.Hash.Size()
	if len(nameHash) != size {
		return id, malformed(ReasonNameHashLength, "issuerNameHash is %d octets, want %d", len(nameHash), size)
	}
	if len(keyHash) != size && len(keyHash) != 0 {
		return id, malformed(ReasonKeyHashLength, "issuerKeyHash is %d octets, want %d or 0", len(keyHash), size)
	}
	id.NameHash, id.KeyHash = []byte(nameHash), []byte(keyHash)

	serialElem := body // ReadASN1Integer below re-reads the element
	var contents cryptobyte.String
	if !body.ReadASN1(&contents, cbasn1.INTEGER) {
		return id, malformed(ReasonSerial, "serialNumber is not an INTEGER")
	}
	if len(contents) == 0 || len(contents) > maxSerialLen {
		return id, malformed(ReasonSerial, "serialNumber is %d octets, want 1..%d", len(contents), maxSerialLen)
	}
	id.Serial = new(big.Int)
	if !serialElem.ReadASN1Integer(id.Serial) {
		return id, malformed(ReasonSerial, "serialNumber is not minimally encoded")
	}
	if !body.Empty() {
		return id, malformed(ReasonTrailingData, "data after serialNumber")
	}
	return id, nil
}

// parseExtensions parses the contents of an Extensions SEQUENCE wrapped in
// an EXPLICIT tag. When req is non-nil the nonce is recognised and stored in
// it; every other extension is unknown: ignored unless critical.
func parseExtensions(wrapped cryptobyte.String, where string, req *Request) error {
	var exts cryptobyte.String
	if !wrapped.ReadASN1(&exts, cbasn1.SEQUENCE) || !wrapped.Empty() {
		return malformed(ReasonASN1, "%s is not one SEQUENCE", where)
	}
	var seen []asn1.ObjectIdentifier
	for !exts.Empty() {
		var ext, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		critical := false
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) {
			return malformed(ReasonASN1, "bad extension in %s", where)
		}
		// critical is DEFAULT FALSE; an explicit FALSE is tolerated.
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&critical) {
			return malformed(ReasonASN1, "bad critical flag of extension %v", oid)
		}
		if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) {
			return malformed(ReasonASN1, "extension %v has no extnValue", oid)
		}
		if !ext.Empty() {
			return malformed(ReasonTrailingData, "data after extension %v", oid)
		}
		for _, s := range seen {
			if s.Equal(oid) {
				return malformed(ReasonDuplicateExtension, "extension %v appears twice in %s", oid, where)
			}
		}
		seen = append(seen, oid)

		switch {
		case req != nil && oid.Equal(oidNonce):
			if err := req.setNonce(value); err != nil {
				return err
			}
		case critical:
			return malformed(ReasonCriticalExtension, "unsupported critical extension %v in %s", oid, where)
		}
	}
	return nil
}

// setNonce decodes an RFC 9654 nonce extnValue: an OCTET STRING (the
// extnValue) whose contents are the DER of another OCTET STRING, the nonce.
func (req *Request) setNonce(value cryptobyte.String) error {
	var nonce cryptobyte.String
	if !value.ReadASN1(&nonce, cbasn1.OCTET_STRING) || !value.Empty() {
		return malformed(ReasonNonceEncoding, "nonce extnValue does not wrap an OCTET STRING")
	}
	if len(nonce) < minNonceLen || len(nonce) > maxNonceLen {
		return malformed(ReasonNonceLength, "nonce is %d octets, want %d..%d", len(nonce), minNonceLen, maxNonceLen)
	}
	req.Nonce, req.HasNonce = []byte(nonce), true
	return nil
}
