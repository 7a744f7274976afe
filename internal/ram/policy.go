package ram

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// AllowAll is the administrator policy document: every yundun-cert action on
// every resource.
const AllowAll = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}]}`

// ReadOnly is the read-only policy document: every Describe*, List* and
// Get* action (status queries, listings, CA details), and explicitly not
// DescribeCertificatePrivateKey, the one Describe action that hands out a
// secret. Read-only means no changes and no secrets.
const ReadOnly = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*","yundun-cert:Get*"],"Resource":"*"},{"Effect":"Deny","Action":"yundun-cert:DescribeCertificatePrivateKey","Resource":"*"}]}`

// readOnlyV1 is the read-only document certstatus wrote before ReadOnly
// denied the private-key export. Its Describe* allowed the export.
const readOnlyV1 = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*","yundun-cert:Get*"],"Resource":"*"}]}`

// Current returns the document a stored policy is evaluated as: the
// read-only document an older certstatus wrote (byte for byte) reads as
// ReadOnly, so a key created with --read-only never exports private keys
// whatever version created it; any other document is returned unchanged.
func Current(doc string) string {
	if doc == readOnlyV1 {
		return ReadOnly
	}
	return doc
}

// service is the RAM code of the actions this policy engine authorizes.
const service = "yundun-cert"

// Policy is a parsed, validated policy document. It is immutable and safe
// for concurrent use.
type Policy struct {
	statements []statement
}

// statement is one parsed Statement entry.
type statement struct {
	deny      bool
	notAction bool     // actions lists NotAction patterns
	actions   []string // glob patterns, "*" or "<service>:<pattern>"
	applies   bool     // some Resource pattern covers this service
	conds     []condition
}

// Request is what a decision depends on.
type Request struct {
	// Action is the RAM action, e.g. "yundun-cert:DescribeClientCertificateStatus".
	Action string
	// SourceIP is the client address for acs:SourceIp; nil if unknown.
	SourceIP net.IP
	// CurrentTime is the time for acs:CurrentTime; zero if unknown.
	CurrentTime time.Time
	// SecureTransport reports whether the request came over TLS, for
	// acs:SecureTransport.
	SecureTransport bool
}

// Decision is the result of Evaluate.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// ExplicitDeny reports that a Deny statement matched.
	ExplicitDeny bool
	// Statement is the zero-based index of the deciding statement: the
	// first matching Deny, else the first matching Allow; -1 for an
	// implicit deny.
	Statement int
}

// NoPermissionType returns the AccessDeniedDetail.NoPermissionType value for
// a denied Decision: "ExplicitDeny" or "ImplicitDeny". It returns "" when
// d.Allowed.
func (d Decision) NoPermissionType() string {
	switch {
	case d.Allowed:
		return ""
	case d.ExplicitDeny:
		return "ExplicitDeny"
	default:
		return "ImplicitDeny"
	}
}

// Evaluate decides r: an explicit Deny that matches wins over any Allow;
// otherwise r is allowed if some Allow matches; otherwise it is implicitly
// denied. A nil Policy denies everything.
func (p *Policy) Evaluate(r Request) Decision {
	if p == nil {
		return Decision{Statement: -1}
	}
	e := newEnv(r)
	allow := -1
	for i := range p.statements {
		st := &p.statements[i]
		if (allow >= 0 && !st.deny) || !st.matches(r.Action, &e) {
			continue
		}
		if st.deny {
			return Decision{ExplicitDeny: true, Statement: i}
		}
		allow = i
	}
	if allow >= 0 {
		return Decision{Allowed: true, Statement: allow}
	}
	return Decision{Statement: -1}
}

// matches reports whether st applies to action in e.
func (st *statement) matches(action string, e *env) bool {
	if !st.applies {
		return false
	}
	listed := false
	for _, pat := range st.actions {
		if matchGlob(pat, action) {
			listed = true
			break
		}
	}
	if listed == st.notAction {
		return false
	}
	for i := range st.conds {
		if !st.conds[i].holds(e) {
			return false
		}
	}
	return true
}

// Parse validates a policy document and returns the parsed Policy. See the
// package documentation for the accepted syntax.
func Parse(doc string) (*Policy, error) {
	top, err := members([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("ram: invalid policy document: %w", err)
	}
	var version, stmts *member
	for i := range top {
		switch m := &top[i]; m.key {
		case "Version":
			version = m
		case "Statement":
			stmts = m
		default:
			return nil, fmt.Errorf("ram: %s", unknownKey(m.key, "Version", "Statement"))
		}
	}
	if version == nil {
		return nil, fmt.Errorf("ram: Version is required")
	}
	if string(version.value) != `"1"` {
		return nil, fmt.Errorf("ram: Version %s must be \"1\"", version.value)
	}
	if stmts == nil {
		return nil, fmt.Errorf("ram: Statement is required")
	}
	var raws []json.RawMessage
	switch v := stmts.value; {
	case len(v) > 0 && v[0] == '{':
		raws = []json.RawMessage{v}
	case len(v) > 0 && v[0] == '[':
		if err := json.Unmarshal(v, &raws); err != nil {
			return nil, fmt.Errorf("ram: Statement: %w", err)
		}
	default:
		return nil, fmt.Errorf("ram: Statement must be an array or an object")
	}
	p := &Policy{statements: make([]statement, len(raws))}
	for i, raw := range raws {
		if err := p.statements[i].parse(i, raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// unknownKey describes an unexpected key, with a hint when it differs from
// a known one only in case.
func unknownKey(key string, known ...string) string {
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return fmt.Sprintf("unknown key %q (keys are case-sensitive: use %q)", key, k)
		}
	}
	return fmt.Sprintf("unknown key %q", key)
}

// statementErr formats an error about statement i.
func statementErr(i int, format string, args ...any) error {
	return fmt.Errorf("ram: statement %d: %w", i, fmt.Errorf(format, args...))
}

// parse fills st from Statement i, the object raw.
func (st *statement) parse(i int, raw json.RawMessage) error {
	ms, err := members(raw)
	if err != nil {
		return statementErr(i, "%w", err)
	}
	var effect, action, notAction, resource, cond *member
	for j := range ms {
		switch m := &ms[j]; m.key {
		case "Effect":
			effect = m
		case "Action":
			action = m
		case "NotAction":
			notAction = m
		case "Resource":
			resource = m
		case "Condition":
			cond = m
		default:
			return statementErr(i, "%s", unknownKey(m.key, "Effect", "Action", "NotAction", "Resource", "Condition"))
		}
	}

	if effect == nil {
		return statementErr(i, "Effect is required")
	}
	switch string(effect.value) {
	case `"Allow"`:
	case `"Deny"`:
		st.deny = true
	default:
		return statementErr(i, "Effect %s must be Allow or Deny", effect.value)
	}

	switch {
	case action != nil && notAction != nil:
		return statementErr(i, "Action and NotAction are mutually exclusive")
	case action == nil && notAction == nil:
		return statementErr(i, "Action or NotAction is required")
	case notAction != nil:
		st.notAction, action = true, notAction
	}
	if st.actions, err = stringList(action.value); err != nil {
		return statementErr(i, "%s: %w", action.key, err)
	}
	for _, a := range st.actions {
		if err := checkAction(a); err != nil {
			return statementErr(i, "%s %q: %w", action.key, a, err)
		}
	}

	if resource == nil {
		return statementErr(i, "Resource is required")
	}
	res, err := stringList(resource.value)
	if err != nil {
		return statementErr(i, "Resource: %w", err)
	}
	for _, r := range res {
		ok, err := resourceApplies(r)
		if err != nil {
			return statementErr(i, "Resource %q: %w", r, err)
		}
		st.applies = st.applies || ok
	}

	if cond != nil {
		if st.conds, err = parseCondition(cond.value); err != nil {
			return statementErr(i, "Condition: %w", err)
		}
	}
	return nil
}

// checkAction validates an action pattern: "*" or "<service>:<action>",
// both parts non-empty and made of letters, digits, "-_." and wildcards.
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return fmt.Errorf(`must be "*" or "<service>:<action>"`)
	}
	for _, part := range []string{svc, name} {
		for _, c := range []byte(part) {
			if !isNameByte(c) && c != '*' && c != '?' {
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

// resourceApplies validates a resource pattern and reports whether it covers
// the requests of this service, which have no resource of their own: "*",
// or an "acs:" ARN whose service field matches "yundun-cert" and whose other
// fields are all "*". An ARN of another service is accepted and never
// applies. An ARN of this service scoped to a region, an account or a
// resource (e.g. "acs:yundun-cert:*:*:certificate/<id>") is an error:
// certstatus authorizes actions, not resources (docs/OPERATIONS.md, "Access keys"),
// and accepting such a statement would apply it to every resource (an
// over-grant for an Allow), so the policy is refused with the reason.
func resourceApplies(r string) (bool, error) {
	if r == "*" {
		return true, nil
	}
	rest, ok := strings.CutPrefix(r, "acs:")
	if !ok {
		return false, fmt.Errorf(`must be "*" or an ARN starting with "acs:"`)
	}
	fields := strings.Split(rest, ":")
	if fields[0] == "" {
		return false, fmt.Errorf("ARN has no service field")
	}
	if !matchGlob(fields[0], service) {
		return false, nil
	}
	if !matchesEverything(fields) {
		return false, ErrResourceScope
	}
	return true, nil
}

// ErrResourceScope is returned (wrapped) by Parse for a Resource that names
// part of the yundun-cert resources rather than all of them.
var ErrResourceScope = errors.New(`resource-level scoping is not supported: yundun-cert actions are authorized for all resources; use "Resource": "*" (or "acs:yundun-cert:*:*:*") and scope the statement with Action and Condition`)

// matchesEverything reports whether the fields of an ARN (service, region,
// account, relative ID) cover every ARN of the service: "acs:*" alone, or
// one to three further fields that are each "*".
func matchesEverything(fields []string) bool {
	if len(fields) == 1 {
		return fields[0] == "*"
	}
	if len(fields) > 4 {
		return false
	}
	for _, f := range fields[1:] {
		if f != "*" {
			return false
		}
	}
	return true
}
