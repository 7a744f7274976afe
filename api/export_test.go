package api

// NonceLen is the number of nonces the server's cache remembers.
func (s *Server) NonceLen() int { return s.nonces.Len() }

// Actions are the names of the served actions.
func Actions() []string {
	var out []string
	for name := range actions {
		out = append(out, name)
	}
	return out
}
