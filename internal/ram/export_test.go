package ram

// MatchGlob exposes the action matcher to the black-box tests.
var MatchGlob = matchGlob
