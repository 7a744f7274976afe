package ocspsign

import (
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Made reports whether der, a successful OCSPResponse, is signed in s's
// form: the same kind of ResponderID (byName with the same name, or byKey)
// and a responder certificate included exactly when s includes one. A
// stored answer signed under other settings (the CA key instead of a
// delegated responder, byName instead of byKey) is not served, and the
// refresh signs it again; one signed by an earlier delegated responder of
// the same form (rotation) still is, until it is due. It reads the
// element headers only, without allocating.
func (s *Signer) Made(der []byte) bool {
	in := cryptobyte.String(der)
	var resp, bytes, basicOctets, basic, tbs, rid, sigAlg cryptobyte.String
	var status int
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Enum(&status) {
		return false
	}
	if status != 0 || !resp.ReadASN1(&bytes, tagExplicit0) || !bytes.ReadASN1(&bytes, cbasn1.SEQUENCE) ||
		!bytes.SkipASN1(cbasn1.OBJECT_IDENTIFIER) || !bytes.ReadASN1(&basicOctets, cbasn1.OCTET_STRING) ||
		!basicOctets.ReadASN1(&basic, cbasn1.SEQUENCE) || !basic.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(tagExplicit0) {
		return false
	}
	var tag cbasn1.Tag
	if !tbs.ReadAnyASN1Element(&rid, &tag) || len(s.responderID) == 0 || byte(tag) != s.responderID[0] {
		return false
	}
	if tag == tagExplicit1 && string(rid) != string(s.responderID) {
		return false // byName: another name
	}
	if !basic.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !basic.SkipASN1(cbasn1.BIT_STRING) {
		return false
	}
	return basic.PeekASN1Tag(tagExplicit0) == (s.certs != nil)
}
