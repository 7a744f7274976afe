package api

// NonceLen is the number of nonces the server's cache remembers.
func (s *Server) NonceLen() int { return s.nonces.Len() }

// ActionNames are the served actions.
func ActionNames() []string {
	names := make([]string, 0, len(actions))
	for name := range actions {
		names = append(names, name)
	}
	return names
}
