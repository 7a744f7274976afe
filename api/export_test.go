package api

// NonceLen is the number of nonces the server's cache remembers.
func (s *Server) NonceLen() int { return s.nonces.Len() }
