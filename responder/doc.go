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
// It is the read side of OCSP and never writes. Responses to requests
// without a nonce for one canonical CertID are served as the CA stored
// them: signed at issuance and in the revocation transaction, re-signed by
// the CA's background refresh before half their validity has passed (see
// ca.Authority.RunOCSP). Requests with a nonce, several CertIDs or an
// unusual CertID encoding, and CertIDs with no current stored answer
// (other hash algorithms, unknown serials), are signed live under a
// concurrency cap with the signers the CA publishes (Signers); a live
// answer for one canonical CertID is remembered in memory, bounded, and
// served again only while the store still says the same. A response never
// outlives its signer: nextUpdate is capped at the signing certificate's
// notAfter.
//
// It imports certs and internal/ocspsign (answer encoding and signing) and
// never db, ca or api: it declares the Source and Signers it needs, each
// read-only.
//
// # Caveats
//
// One response has one signer. When a request names certificates of
// several issuers, the response is signed for the first issuer served and
// holds answers for that issuer's CertIDs only; the others are left out
// (a client asking them gets "no status" for those), never answered by a
// key not authorised for their issuer.
package responder
