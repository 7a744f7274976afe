package acsauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
)

// v1SignatureParam is the parameter that carries a V1 signature; it is the
// only parameter left out of the string to sign.
const v1SignatureParam = "Signature"

// V1StringToSign returns the V1 ("RPC", HMAC-SHA1, SignatureVersion=1.0)
// string to sign for a request (alibaba-api.md §2.1):
//
//	HTTPMethod + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalizedQueryString)
//
// params must hold every request parameter the server received, the decoded
// query string and the decoded form body merged, because clients differ in
// where they put them. Every parameter except "Signature" is included;
// empty values appear as "name=", and every value of a multi-valued name is
// included. Pairs are sorted by encoded name, then encoded value. The
// canonicalised query is encoded a second time, so %2C appears as %252C.
//
// method is used as given; net/http already upper-cases the standard ones.
func V1StringToSign(method string, params url.Values) string {
	return string(appendV1StringToSign(nil, method, params))
}

func appendV1StringToSign(b []byte, method string, params url.Values) []byte {
	pairs := sortedPairs(params, func(name string) bool { return name == v1SignatureParam })
	b = append(append(b, method...), "&%2F&"...)
	return appendCanonical(b, pairs, 2)
}

// V1Verify reports whether signature is the V1 signature, with secret, of
// a request with these method and params (see V1StringToSign). When it is
// not, it also returns the string to sign, which Alibaba's
// SignatureDoesNotMatch message shows the client. It is V1Signature of
// V1StringToSign compared with Equal, without copying the string to sign.
func V1Verify(secret []byte, method string, params url.Values, signature string) (stringToSign string, ok bool) {
	sts := appendV1StringToSign(nil, method, params)
	if Equal(v1Sign(secret, sts), signature) {
		return "", true
	}
	return string(sts), false
}

// V1Signature returns base64(HMAC-SHA1(secret + "&", stringToSign)), the
// value of the Signature parameter. secret is the AccessKey secret; it is
// not modified.
func V1Signature(secret []byte, stringToSign string) string {
	return v1Sign(secret, []byte(stringToSign))
}

func v1Sign(secret, stringToSign []byte) string {
	key := make([]byte, 0, len(secret)+1)
	key = append(append(key, secret...), '&')
	mac := hmac.New(sha1.New, key)
	mac.Write(stringToSign)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
