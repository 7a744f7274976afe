package acsauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// algorithmV3 is the only V3 signature algorithm this package verifies.
const algorithmV3 = "ACS3-HMAC-SHA256"

// Authorization is a parsed V3 Authorization header:
//
//	ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;…>,Signature=<hex>
type Authorization struct {
	// Algorithm is always "ACS3-HMAC-SHA256" after a successful parse.
	Algorithm string
	// AccessKeyID is the Credential value.
	AccessKeyID string
	// SignedHeaders are the lower-case header names, in the order sent.
	SignedHeaders []string
	// Signature is the 64-character lower-case hex signature.
	Signature string
}

// ParseAuthorization parses a V3 Authorization header value. It is strict:
// exactly one space after the algorithm, no other whitespace, the three
// parts Credential, SignedHeaders and Signature each exactly once (in any
// order), lower-case header names without duplicates, and a signature of 64
// lower-case hex digits. Any failure is an *Error with Code
// "IncompleteSignature"; an algorithm other than ACS3-HMAC-SHA256 (for
// example ACS3-HMAC-SM3 or ACS3-RSA-SHA256, which the Go SDK can also send)
// is reported the same way, naming the algorithm.
func ParseAuthorization(h string) (Authorization, error) {
	const form = `the Authorization header must be "ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>"`
	if h == "" {
		return Authorization{}, incompleteSignature("The Authorization header is empty.")
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg == "" || rest == "" {
		return Authorization{}, incompleteSignature("Malformed Authorization header: %s.", form)
	}
	if alg != algorithmV3 {
		return Authorization{}, incompleteSignature("Unsupported signature algorithm %q: only %s is supported.", clip(alg), algorithmV3)
	}
	if strings.ContainsAny(rest, " \t\r\n") {
		return Authorization{}, incompleteSignature("Malformed Authorization header: unexpected whitespace; %s.", form)
	}
	a := Authorization{Algorithm: alg}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return Authorization{}, incompleteSignature("Malformed Authorization header: part %q is not key=value; %s.", clip(part), form)
		}
		if seen[key] {
			return Authorization{}, incompleteSignature("Malformed Authorization header: %q appears twice.", clip(key))
		}
		seen[key] = true
		switch key {
		case "Credential":
			a.AccessKeyID = value
		case "SignedHeaders":
			if value != "" {
				a.SignedHeaders = strings.Split(value, ";")
			}
		case "Signature":
			a.Signature = value
		default:
			return Authorization{}, incompleteSignature("Malformed Authorization header: unknown part %q; %s.", clip(key), form)
		}
	}
	if err := a.validate(); err != nil {
		return Authorization{}, err
	}
	return a, nil
}

func (a Authorization) validate() error {
	if a.AccessKeyID == "" {
		return incompleteSignature("The Authorization header has no Credential.")
	}
	for i := 0; i < len(a.AccessKeyID); i++ {
		if c := a.AccessKeyID[i]; c <= ' ' || c >= 0x7f {
			return incompleteSignature("The Credential in the Authorization header contains an invalid character.")
		}
	}
	if len(a.SignedHeaders) == 0 {
		return incompleteSignature("The Authorization header has no SignedHeaders.")
	}
	names := map[string]bool{}
	for _, name := range a.SignedHeaders {
		if !validSignedName(name) {
			return incompleteSignature("SignedHeaders contains %q, which is not a lower-case header name.", clip(name))
		}
		if names[name] {
			return incompleteSignature("SignedHeaders lists %q twice.", name)
		}
		names[name] = true
	}
	if a.Signature == "" {
		return incompleteSignature("The Authorization header has no Signature.")
	}
	if len(a.Signature) != 2*sha256.Size || !isLowerHex(a.Signature) {
		return incompleteSignature("The Signature in the Authorization header must be %d lower-case hex digits.", 2*sha256.Size)
	}
	return nil
}

// validSignedName reports whether name is a non-empty RFC 9110 token
// without upper-case letters.
func validSignedName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// clip shortens attacker-supplied text before it goes into a message.
func clip(s string) string {
	const limit = 64
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// V3CanonicalRequest builds the ACS3 canonical request (alibaba-api.md §2.2),
// six parts joined by "\n": method, CanonicalURI, CanonicalQueryString,
// CanonicalHeaders (each line ending in "\n", hence an empty line),
// SignedHeaders and payloadHash. The arguments are:
//
//   - path: the escaped request path (r.URL.EscapedPath()); "" means "/".
//     RPC-style requests always use "/".
//   - query: the decoded query parameters (r.URL.Query(), not the form
//     body). Names and values are re-encoded with PercentEncode and sorted
//     by name then value; an empty value gives "name=". Do not reuse the
//     raw query string: the Go SDK sends spaces as "+".
//   - header, host, signedHeaders: one "name:value" line per entry of
//     signedHeaders, in the order given (clients sort them). "host" takes
//     its value from host (r.Host, including the port when the client sent
//     one) because net/http removes Host from the header map. Other values
//     come from header, trimmed; several values of one header are sorted
//     and joined with ",", as the Go SDK does.
//   - payloadHash: the x-acs-content-sha256 header value, used as given.
//     The caller must check separately that it matches the body.
func V3CanonicalRequest(method, path string, query url.Values, header http.Header, host string, signedHeaders []string, payloadHash string) string {
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalPairs(query, nil))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(header, host, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func headerValue(header http.Header, host, name string) string {
	if strings.EqualFold(name, "host") {
		if host != "" {
			return strings.TrimSpace(host)
		}
	}
	values := header.Values(name)
	if len(values) == 1 {
		return strings.TrimSpace(values[0])
	}
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.TrimSpace(v)
	}
	slices.Sort(trimmed)
	return strings.Join(trimmed, ",")
}

// V3StringToSign returns "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonicalRequest)).
func V3StringToSign(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return algorithmV3 + "\n" + hex.EncodeToString(sum[:])
}

// V3Signature returns hex(HMAC-SHA256(secret, stringToSign)). Unlike V1,
// the key is the AccessKey secret itself, with no "&" suffix.
func V3Signature(secret []byte, stringToSign string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(stringToSign))
	return hex.EncodeToString(mac.Sum(nil))
}

// CheckSignedHeaders enforces the V3 rules on which headers must be signed:
// "host" and every x-acs-* header present in header must be listed in
// a.SignedHeaders, "content-type" too when the request has a body, and
// every listed header other than host must be present. header is the
// request's header map (r.Header), which net/http keeps without Host.
// A violation is an *Error with Code "IncompleteSignature".
func CheckSignedHeaders(a Authorization, header http.Header, hasBody bool) error {
	signed := make(map[string]bool, len(a.SignedHeaders))
	for _, name := range a.SignedHeaders {
		signed[strings.ToLower(name)] = true
	}
	if !signed["host"] {
		return incompleteSignature("SignedHeaders must include host.")
	}
	present := make([]string, 0, len(header))
	for name := range header {
		present = append(present, strings.ToLower(name))
	}
	slices.Sort(present)
	for _, name := range present {
		if strings.HasPrefix(name, "x-acs-") && !signed[name] {
			return incompleteSignature("Header %q is present but not in SignedHeaders.", clip(name))
		}
	}
	if hasBody && !signed["content-type"] {
		return incompleteSignature("The request has a body, so SignedHeaders must include content-type.")
	}
	for _, name := range a.SignedHeaders {
		if strings.EqualFold(name, "host") {
			continue
		}
		if len(header.Values(name)) == 0 {
			return incompleteSignature("Signed header %q is absent from the request.", clip(name))
		}
	}
	return nil
}
