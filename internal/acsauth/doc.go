// Package acsauth verifies Alibaba Cloud API request signatures on the
// server side, so that certstatus can accept calls from the official
// Alibaba Cloud SDKs (see alibaba-api.md §2 in the shared docs).
//
// Two schemes are supported:
//
//   - V1, the RPC signature (SignatureMethod=HMAC-SHA1,
//     SignatureVersion=1.0): the Signature, AccessKeyId, Timestamp and
//     SignatureNonce travel as request parameters, in the query string or
//     the form body. See V1StringToSign and V1Signature. The Go SDK sends it
//     when Config.SignatureAlgorithm is "v2"; the legacy Go SDK and the Node
//     pop-core client always do.
//   - V3, ACS3-HMAC-SHA256: an Authorization header plus signed x-acs-*
//     headers. See ParseAuthorization, CheckSignedHeaders,
//     V3CanonicalRequest, V3StringToSign and V3Signature. This is the
//     default of the current Go SDK (darabonba-openapi/v2).
//
// The package also checks request timestamps (CheckTime) and remembers
// nonces against replay (NonceCache). Failures are *Error values carrying
// the Alibaba error code and HTTP status; mapping them to a JSON body is the
// caller's job. A verifier in the HTTP layer should follow the order of
// alibaba-api.md §5: parse, required parameters, AccessKey lookup,
// timestamp (CheckTime), signature (compare with Equal), nonce
// (NonceCache.Seen), action, authorisation and rate limit, and only then
// NonceCache.Use, so that refused requests never fill the cache.
//
// acsauth imports only the standard library. It knows nothing of HTTP
// routing, AccessKey storage or error bodies, and it must not import any
// other certstatus package.
//
// # Caveats
//
//   - Only ACS3-HMAC-SHA256 is accepted for V3. The Go SDK can also be
//     configured for ACS3-HMAC-SM3 and ACS3-RSA-SHA256; those requests get
//     IncompleteSignature.
//   - V3 signs the hash of the body, not the body: the caller must check that
//     x-acs-content-sha256 equals the lower-case hex SHA-256 of the bytes it
//     actually read, or a body can be swapped under a valid signature.
//   - V1 signs every parameter, wherever it was sent, so the caller must
//     merge the decoded query and form body before calling V1StringToSign,
//     and must read parameters from that same merged set afterwards.
//   - Canonical forms are rebuilt from decoded values with PercentEncode.
//     The Go SDK's V3 code leaves query parameter names unencoded; that only
//     matters for names outside A–Z a–z 0–9 - _ . ~, which no Alibaba API
//     uses.
//   - NonceCache is in memory: nonces are forgotten on restart and are not
//     shared between replicas; a caller that must refuse replays across a
//     restart keeps those nonces in its store too. See NonceCache for
//     choosing its window and its bounds.
//   - No secret is ever put in an *Error message; echoing the server's
//     string to sign (as the real gateway does) is left to the caller.
package acsauth
