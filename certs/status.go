package certs

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says what a certificate is for.
type Kind uint8

// The kinds of certificate certstatus issues and stores.
const (
	KindUnknown Kind = iota
	KindRootCA       // self-signed root CA ("ROOT")
	KindSubCA        // intermediate CA signed by another of ours ("SUB_ROOT")
	KindClient       // TLS client certificate ("CLIENT")
	KindServer       // TLS server certificate ("SERVER")
)

var kindNames = [...]string{"", "ROOT", "SUB_ROOT", "CLIENT", "SERVER"}

// String returns the Alibaba CertificateType spelling of k.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != KindUnknown {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// IsCA reports whether k is a CA kind.
func (k Kind) IsCA() bool { return k == KindRootCA || k == KindSubCA }

// ParseKind accepts the Alibaba spellings (ROOT, SUB_ROOT, CLIENT, SERVER)
// and the friendlier root, sub, client and server, in any case.
func ParseKind(s string) (Kind, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ROOT", "ROOT_CA":
		return KindRootCA, nil
	case "SUB_ROOT", "SUB", "SUBROOT", "SUB_CA", "INTERMEDIATE":
		return KindSubCA, nil
	case "CLIENT":
		return KindClient, nil
	case "SERVER":
		return KindServer, nil
	}
	return KindUnknown, fmt.Errorf("%w kind %q: want one of ROOT, SUB_ROOT, CLIENT, SERVER", ErrInvalid, s)
}

// State is the stored lifecycle state of a certificate or CA.
type State uint8

// Stored states, spelled as Alibaba's Status field.
const (
	StateIssued  State = 1 // "ISSUE"
	StateRevoked State = 2 // "REVOKE"
)

// String returns "ISSUE" or "REVOKE".
func (s State) String() string {
	switch s {
	case StateIssued:
		return "ISSUE"
	case StateRevoked:
		return "REVOKE"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// ParseState accepts ISSUE and REVOKE (any case).
func ParseState(s string) (State, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ISSUE", "ISSUED":
		return StateIssued, nil
	case "REVOKE", "REVOKED":
		return StateRevoked, nil
	}
	return 0, fmt.Errorf("%w state %q: want ISSUE or REVOKE", ErrInvalid, s)
}

// Status is the answer to "is this certificate still good?", as both the
// JSON API and OCSP (RFC 6960 §2.2) give it.
type Status uint8

// Answered statuses. The zero value is Unknown so that a missing record can
// never read as good.
const (
	Unknown Status = iota // "unknown": not a certificate we know
	Good                  // "good": issued and not revoked at the asked time
	Revoked               // "revoked": revoked at or before the asked time
)

// String returns "good", "revoked" or "unknown".
func (s Status) String() string {
	switch s {
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	}
	return "unknown"
}

// Reason is an RFC 5280 §5.3.1 CRLReason code.
type Reason int

// The RFC 5280 reason codes. Value 7 is not used.
const (
	Unspecified          Reason = 0
	KeyCompromise        Reason = 1
	CACompromise         Reason = 2
	AffiliationChanged   Reason = 3
	Superseded           Reason = 4
	CessationOfOperation Reason = 5
	CertificateHold      Reason = 6
	RemoveFromCRL        Reason = 8
	PrivilegeWithdrawn   Reason = 9
	AACompromise         Reason = 10
)

var reasonNames = map[Reason]string{
	Unspecified:          "unspecified",
	KeyCompromise:        "keyCompromise",
	CACompromise:         "cACompromise",
	AffiliationChanged:   "affiliationChanged",
	Superseded:           "superseded",
	CessationOfOperation: "cessationOfOperation",
	CertificateHold:      "certificateHold",
	RemoveFromCRL:        "removeFromCRL",
	PrivilegeWithdrawn:   "privilegeWithdrawn",
	AACompromise:         "aACompromise",
}

// String returns the RFC 5280 ASN.1 name of r, such as "keyCompromise".
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Valid reports whether r is one of the RFC 5280 codes.
func (r Reason) Valid() bool {
	_, ok := reasonNames[r]
	return ok
}

// Revocable reports whether a certificate may be revoked with r. RFC 5280
// §5.3.1 reserves removeFromCRL for delta CRLs, so it is never a reason to
// revoke.
func (r Reason) Revocable() bool { return r.Valid() && r != RemoveFromCRL }

// ParseRevocationReason is ParseReason for a reason to revoke with: it
// also refuses removeFromCRL (see Revocable), naming why.
func ParseRevocationReason(s string) (Reason, error) {
	r, err := ParseReason(s)
	if err != nil {
		return 0, err
	}
	if !r.Revocable() {
		return 0, fmt.Errorf("%w reason %s: removeFromCRL is only for delta CRLs, not a reason to revoke", ErrInvalid, r)
	}
	return r, nil
}

// ParseReason accepts the RFC 5280 name in any case, with or without
// separators (key-compromise, key_compromise, KeyCompromise), or the
// numeric code.
func ParseReason(s string) (Reason, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		r := Reason(n)
		if !r.Valid() {
			return 0, fmt.Errorf("%w reason %q: no RFC 5280 reason has code %d", ErrInvalid, s, n)
		}
		return r, nil
	}
	norm := dropSeparators.Replace(strings.ToLower(t))
	for r, name := range reasonNames {
		if strings.ToLower(name) == norm {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w reason %q: want an RFC 5280 reason such as keyCompromise or superseded", ErrInvalid, s)
}
