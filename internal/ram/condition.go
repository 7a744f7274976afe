package ram

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Condition keys, lower-cased: keys compare case-insensitively.
const (
	keySourceIP        = "acs:sourceip"
	keyCurrentTime     = "acs:currenttime"
	keySecureTransport = "acs:securetransport"
)

// operators maps each supported operator (case-sensitive) to the one
// condition key it applies to. Anything else fails Parse.
var operators = map[string]string{
	"IpAddress":             keySourceIP,
	"NotIpAddress":          keySourceIP,
	"DateGreaterThan":       keyCurrentTime,
	"DateGreaterThanEquals": keyCurrentTime,
	"DateLessThan":          keyCurrentTime,
	"DateLessThanEquals":    keyCurrentTime,
	"Bool":                  keySecureTransport,
}

// condition is one operator/key pair of a statement's Condition block, with
// its values parsed for the operator.
type condition struct {
	op       string
	prefixes []netip.Prefix // IpAddress, NotIpAddress
	times    []time.Time    // Date*
	bools    []bool         // Bool
}

// env is the Request reduced to what conditions compare, computed once per
// Evaluate.
type env struct {
	addr    netip.Addr // invalid if the request has no usable SourceIP
	now     time.Time  // zero if the request has no CurrentTime
	secure  bool
	hasTime bool
}

func newEnv(r Request) env {
	e := env{now: r.CurrentTime, hasTime: !r.CurrentTime.IsZero(), secure: r.SecureTransport}
	if a, ok := netip.AddrFromSlice(r.SourceIP); ok {
		e.addr = a.Unmap()
	}
	return e
}

// holds reports whether c is true for e. A condition on a value e lacks is
// false, whatever the operator.
func (c *condition) holds(e *env) bool {
	switch c.op {
	case "IpAddress", "NotIpAddress":
		if !e.addr.IsValid() {
			return false
		}
		in := false
		for _, p := range c.prefixes {
			if p.Contains(e.addr) {
				in = true
				break
			}
		}
		return in == (c.op == "IpAddress")
	case "Bool":
		for _, b := range c.bools {
			if b == e.secure {
				return true
			}
		}
		return false
	}
	if !e.hasTime {
		return false
	}
	for _, t := range c.times {
		var ok bool
		switch c.op {
		case "DateGreaterThan":
			ok = e.now.After(t)
		case "DateGreaterThanEquals":
			ok = !e.now.Before(t)
		case "DateLessThan":
			ok = e.now.Before(t)
		case "DateLessThanEquals":
			ok = !e.now.After(t)
		}
		if ok {
			return true
		}
	}
	return false
}

// parseCondition parses a statement's Condition object into one condition
// per operator/key pair. Its errors leave the "Condition: " prefix to the
// caller.
func parseCondition(raw json.RawMessage) ([]condition, error) {
	ops, err := members(raw)
	if err != nil {
		return nil, err
	}
	var conds []condition
	for _, op := range ops {
		want, ok := operators[op.key]
		if !ok {
			return nil, fmt.Errorf("unknown operator %q", op.key)
		}
		keys, err := members(op.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.key, err)
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s: no condition keys", op.key)
		}
		for _, k := range keys {
			c, err := parseValues(op.key, want, k)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.key, err)
			}
			conds = append(conds, c)
		}
	}
	return conds, nil
}

// parseValues checks that key k is the one operator op applies to (want)
// and parses its values for that operator.
func parseValues(op, want string, k member) (condition, error) {
	c := condition{op: op}
	switch key := strings.ToLower(k.key); {
	case key != keySourceIP && key != keyCurrentTime && key != keySecureTransport:
		return c, fmt.Errorf("unknown condition key %q", k.key)
	case key != want:
		return c, fmt.Errorf("operator does not apply to key %q", k.key)
	}
	vals, err := stringList(k.value)
	if err != nil {
		return c, fmt.Errorf("%s: %w", k.key, err)
	}
	for _, v := range vals {
		switch want {
		case keySourceIP:
			p, err := parsePrefix(v)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not an IP address or CIDR prefix", k.key, v)
			}
			c.prefixes = append(c.prefixes, p)
		case keyCurrentTime:
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not an RFC 3339 time", k.key, v)
			}
			c.times = append(c.times, t)
		case keySecureTransport:
			switch {
			case strings.EqualFold(v, "true"):
				c.bools = append(c.bools, true)
			case strings.EqualFold(v, "false"):
				c.bools = append(c.bools, false)
			default:
				return c, fmt.Errorf("%s: %q is not true or false", k.key, v)
			}
		}
	}
	return c, nil
}

// parsePrefix parses an address or CIDR prefix (no zones), masks host bits
// and turns IPv4-mapped IPv6 prefixes into IPv4 ones, so that they compare
// with the unmapped request address.
func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, err
		}
		if a.Zone() != "" {
			return p, fmt.Errorf("zone in %q", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return p.Masked(), nil // spans more than the mapped range; keep as IPv6
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
