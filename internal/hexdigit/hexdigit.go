// Package hexdigit reads the hex digits of percent-escapes (%XX), which
// the API's query parser, the OCSP GET path, the OCSP listener's HTTP
// reader and its router all decode byte by byte without allocating.
package hexdigit

// Value is the value of the hex digit c (either case), or -1.
func Value(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
