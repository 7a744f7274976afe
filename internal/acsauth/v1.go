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
	canonical := canonicalPairs(params, func(name string) bool {
		return name == v1SignatureParam
	})
	return method + "&%2F&" + PercentEncode(canonical)
}

// V1Signature returns base64(HMAC-SHA1(secret + "&", stringToSign)), the
// value of the Signature parameter. secret is the AccessKey secret; it is
// not modified.
func V1Signature(secret []byte, stringToSign string) string {
	key := make([]byte, 0, len(secret)+1)
	key = append(append(key, secret...), '&')
	mac := hmac.New(sha1.New, key)
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
