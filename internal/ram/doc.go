// Package ram parses and evaluates Alibaba Cloud RAM-style policy documents
// for the certstatus Alibaba-compatible API: every AccessKey carries one
// policy, and the API asks it whether "yundun-cert:<Action>" is allowed
// before running the action. It imports the standard library only and none
// of our packages.
//
// # Documents
//
// A document is a JSON object with exactly the keys "Version" (must be the
// string "1") and "Statement" (an array of statements, or a single statement
// object). A statement has the keys:
//
//   - "Effect": "Allow" or "Deny", case-sensitive.
//   - exactly one of "Action" and "NotAction": a string or a non-empty array
//     of strings, each "*" or "<service>:<ActionPattern>", where both parts
//     are made of letters, digits, '-', '_', '.' and the wildcards '*' (any
//     run of characters, including none) and '?' (exactly one character).
//   - "Resource" (required): a string or a non-empty array of strings, each
//     "*" or an ARN pattern starting with "acs:".
//   - "Condition" (optional): {"<Operator>": {"<key>": value or [values]}}.
//
// Any other key, a duplicate key, or a value of the wrong type is an error:
// Parse fails closed rather than ignoring what it does not understand.
// Errors start with "ram: " and name the statement by its zero-based index,
// the same index Decision.Statement reports.
//
// # Evaluation
//
// A statement applies to a Request when its action list matches, one of its
// resources applies and all of its conditions hold. Then:
//
//  1. if any Deny statement applies, the request is denied (ExplicitDeny),
//     whatever the Allow statements say;
//  2. otherwise, if any Allow statement applies, it is allowed;
//  3. otherwise it is denied (ImplicitDeny).
//
// Action patterns match the whole action name, service prefix included
// ("yundun-cert:*" does not match "ecs:DescribeInstances"); a bare "*"
// matches every action. NotAction inverts the list: the statement applies to
// every action that matches none of the patterns, so an Allow with NotAction
// allows everything except the list and a Deny with NotAction denies
// everything except it.
//
// Action matching is case-insensitive (Unicode simple folding, as
// strings.EqualFold). Whether Alibaba compares action names
// case-sensitively is unverified, but RAM treats them case-insensitively in
// practice, and folding means a Deny pattern matches every spelling an Allow
// pattern would: Deny is never weaker than Allow. The glob matcher is the
// iterative two-pointer algorithm, O(len(pattern)·len(action)) in the worst
// case, allocation-free, with no regular expressions and no exponential
// backtracking.
//
// # Resources
//
// The yundun-cert actions have no resource-level authorization (the Alibaba
// docs list them as "All Resources"), so a request has no resource of its
// own, and a statement can only be about all of them. A resource pattern
// applies to every request when it is "*" or an "acs:" ARN whose service
// field (the text between "acs:" and the next ':') matches "yundun-cert" as
// a case-insensitive glob and whose other fields are each "*":
// "acs:yundun-cert:*:*:*", "acs:*:*:*:*" and "acs:*" apply. An ARN of
// another service ("acs:ecs:*:*:*") is accepted and never applies, so a
// statement whose resources are all of that kind never applies. An ARN of
// this service scoped to a region, an account or a resource
// ("acs:yundun-cert:*:*:certificate/<id>", "acs:*:*:123456:*") is a Parse
// error wrapping ErrResourceScope, for Allow and Deny alike: applying it to
// every resource would be an over-grant, and applying it to none would
// silently drop the statement. Scope with Action and Condition instead.
// Callers that meet such a document already stored (written by an older
// version) get the Parse error and must deny.
//
// # Conditions
//
// Supported operators and the one key each applies to (operators are
// case-sensitive, keys case-insensitive):
//
//   - IpAddress, NotIpAddress on acs:SourceIp: values are IPv4 or IPv6
//     addresses or CIDR prefixes (host bits are masked off; IPv4-mapped IPv6
//     addresses compare as IPv4).
//   - DateGreaterThan, DateGreaterThanEquals, DateLessThan,
//     DateLessThanEquals on acs:CurrentTime: values are RFC 3339 times.
//   - Bool on acs:SecureTransport: values are "true" or "false" (any case).
//
// All operator/key pairs of a Condition must hold (AND). Several values for
// one key are alternatives (OR); for NotIpAddress the alternatives are
// combined before the negation, so it holds only when the address is in none
// of the prefixes, as in RAM. A condition on information the Request lacks
// (nil SourceIP, zero CurrentTime) does not hold, for NotIpAddress too.
//
// # Caveats
//
//   - Unknown operators (StringEquals, ForAnyValue:..., ...IfExists) and
//     unknown keys are Parse errors, not ignored conditions. Extend the
//     operator table in condition.go before using them.
//   - Values in a Condition must be JSON strings; true/false literals are
//     rejected.
//   - NotResource, Principal and Sid are not supported (Parse errors).
//   - A nil *Policy denies everything (implicit deny).
package ram
