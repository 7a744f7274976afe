// Package responder is the OCSP responder of certstatus (RFC 6960, RFC 9919
// — the successor of RFC 5019 —, RFC 9654 nonces), answering from the same
// records as the JSON API.
//
// Requests are parsed by our own decoder (x/crypto/ocsp keeps only the
// first CertID and no extensions): every CertID with SHA-1/256/384/512, the
// nonce, and the GET encodings real clients send. A CertID is matched to an
// issuer by the hashes of the issuer's subject and subjectPublicKey bit
// string for its algorithm — never the SKI —, and the record by (issuer,
// serial). The answer is certs.Record.StatusAt, the function the JSON API
// uses: good, revoked (time and reason; the reason is omitted when
// unspecified), or unknown for a serial the issuer never issued (never
// good). An issuer we do not serve gets unauthorized; an unparsable request
// malformedRequest; a failure internalError; saturated live signing
// tryLater.
//
// Responses to requests without a nonce for one canonical CertID are served
// pre-signed: signed at issuance and in the revocation transaction (see
// Presign), signed on first use for other hash algorithms, and re-signed in
// the background (Run) before half their validity has passed. Requests with
// a nonce, several CertIDs or an unusual CertID encoding are signed live,
// under a concurrency cap. A response never outlives its signer: nextUpdate
// is capped at the signing certificate's notAfter.
//
// It imports certs and never db, ca or api: it declares the Source it needs.
//
// # Caveats
//
// One response has one signer. When a request names certificates of
// several issuers, the response is signed for the first issuer served and
// holds answers for that issuer's CertIDs only; the others are left out
// (a client asking them gets "no status" for those), never answered by a
// key not authorised for their issuer.
package responder
