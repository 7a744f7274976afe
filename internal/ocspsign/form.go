package ocspsign

// Made reports whether der, a successful OCSPResponse, is signed in s's
// form:
//
//   - the same kind of ResponderID (byName or byKey);
//   - when the CA signs, exactly s's ResponderID, and exactly its
//     certificate in certs;
//   - when a delegated responder signs, byName the same name, byKey any key
//     hash but the CA's own, and certs present that are not the CA's
//     certificate alone (what a CA-signed answer carries).
//
// A stored answer signed under other settings (the CA key instead of a
// delegated responder, byName instead of byKey, or without the signer's
// certificate, as CA-signed answers were before it was included) is not
// served, and serve's start pass signs it again; one signed by an earlier
// delegated responder of the same form (rotation) still is, until it is
// due.
//
// Every pre-signed answer served passes through it until the Set is
// settled, so it reads element headers with element below rather than
// cryptobyte (~45 ns against ~120 ns a call: BenchmarkMade), without
// allocating; answers are the CA's own, stored under a checksum, and it
// only has to tell forms apart and refuse what it cannot read
// (form_test.go holds it to that).
func (s *Signer) Made(der []byte) bool {
	if len(s.responderID) == 0 {
		return false
	}
	tag, resp, _, ok := element(der)
	if !ok || tag != 0x30 || len(resp) < 3 || resp[0] != 0x0a || resp[1] != 1 || resp[2] != 0 { // responseStatus successful
		return false
	}
	tag, rb, _, ok := element(resp[3:]) // responseBytes [0] EXPLICIT
	if !ok || tag != 0xa0 {
		return false
	}
	if tag, rb, _, ok = element(rb); !ok || tag != 0x30 {
		return false
	}
	_, _, rest, ok := element(rb) // responseType
	if !ok {
		return false
	}
	tag, octets, _, ok := element(rest) // response OCTET STRING
	if !ok || tag != 0x04 {
		return false
	}
	tag, basic, _, ok := element(octets) // BasicOCSPResponse
	if !ok || tag != 0x30 {
		return false
	}
	tag, tbs, rest, ok := element(basic) // tbsResponseData
	if !ok || tag != 0x30 {
		return false
	}
	ridAt := tbs
	tag, _, after, ok := element(tbs)
	if ok && tag == 0xa0 { // version, when present
		ridAt = after
		tag, _, after, ok = element(after)
	}
	if !ok || tag != s.responderID[0] {
		return false
	}
	rid := ridAt[:len(ridAt)-len(after)]
	delegated := s.SignerCert != nil
	switch {
	case !delegated, tag == 0xa1:
		if string(rid) != string(s.responderID) {
			return false // the CA's ResponderID, or byName: another one
		}
	case string(rid) == string(s.caKeyID):
		return false // byKey: the CA signed it
	}
	if tag, _, rest, ok = element(rest); !ok || tag != 0x30 { // signatureAlgorithm
		return false
	}
	if tag, _, rest, ok = element(rest); !ok || tag != 0x03 { // signature
		return false
	}
	if !delegated {
		return string(rest) == string(s.certs)
	}
	return len(rest) > 0 && rest[0] == 0xa0 && string(rest) != string(s.caCerts)
}

// element reads the DER element at the start of b (one-octet tags, definite lengths of
// at most three octets, in their shortest form): its tag, its contents and
// what follows it. It is cryptobyte's ReadAnyASN1 cut down to what Made
// needs, for the pre-signed throughput bar (DESIGN.md), and FuzzElement
// checks it against cryptobyte.
func element(b []byte) (tag byte, body, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, nil, false
	}
	if b[0]&0x1f == 0x1f {
		return 0, nil, nil, false // a tag number of more than one octet: never one of ours
	}
	tag, n, i := b[0], int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if n < 0x80 || b[2] == 0 { // DER: the shortest form only, as cryptobyte insists
			return 0, nil, nil, false
		}
		i += k
	}
	if len(b)-i < n {
		return 0, nil, nil, false
	}
	return tag, b[i : i+n], b[i+n:], true
}
