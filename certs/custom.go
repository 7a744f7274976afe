package certs

import "fmt"

// CustomIdentifierMaxLen is the longest custom identifier accepted.
const CustomIdentifierMaxLen = 128

// ValidateCustomIdentifier checks an operator-chosen custom identifier:
// 1 to CustomIdentifierMaxLen characters from A–Z, a–z, 0–9 and "-_.:@",
// and not 32 hexadecimal digits (in any case), which would read as — and
// could shadow — a certificate Identifier. Control characters, NUL, '/',
// spaces, quotes and non-ASCII are refused: the value travels in URLs, file
// names, logs and CSV. An empty value (no custom identifier) is valid.
func ValidateCustomIdentifier(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > CustomIdentifierMaxLen {
		return fmt.Errorf("%w custom identifier: longer than %d characters", ErrInvalid, CustomIdentifierMaxLen)
	}
	hex := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isHex(c) || 'A' <= c && c <= 'F':
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':' || c == '@':
			hex = false
		default:
			return fmt.Errorf("%w custom identifier: character %q at offset %d is not allowed (use A-Z, a-z, 0-9 and -_.:@)", ErrInvalid, c, i)
		}
	}
	if hex && len(s) == IdentifierLen {
		return fmt.Errorf("%w custom identifier: 32 hexadecimal digits read as a certificate Identifier; choose another form", ErrInvalid)
	}
	return nil
}
