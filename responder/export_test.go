package responder

// Internals exposed to the black-box tests.

// QuickTakes reports whether r's quick path takes der (the shape, and a
// canonical CertID of an issuer r serves), with the CertID and serial it
// read.
func (r *Responder) QuickTakes(der []byte) (certID, serial []byte, ok bool) {
	q, ok := parseQuick(der)
	if !ok {
		return nil, nil, false
	}
	_, _, ok = r.set().ByPrefix(q.prefix)
	return q.certID, q.serial, ok
}

// QuickGET is the quick path's GET decoder.
func QuickGET(path, prefix string) ([]byte, bool) { return quickGET(path, prefix, nil) }

// QuickGETEscaped is its decoder of escaped request-targets.
func QuickGETEscaped(target string) ([]byte, bool) {
	_, der, ok := quickGETEscaped(target, nil, nil)
	return der, ok
}

// AppendBase64 is the base64 decoder of both GET paths.
var AppendBase64 = appendBase64[string]

// AppendHTTPDate and ETagInput are the GET header helpers.
var (
	AppendHTTPDate = appendHTTPDate
	ETagInput      = etagInput
)

// DecodeGETWork is DecodeGET that also says how many base64 decodings it
// made and of how many characters in all.
func DecodeGETWork(rawPath, prefix string) (der []byte, decodes, chars int, err error) {
	var w getWork
	der, err = w.decodeGET(rawPath, prefix)
	return der, w.decodes, w.chars, err
}

// ErrUnauthorized is the answer path's "issuer not served" error.
var ErrUnauthorized = errUnauthorized
