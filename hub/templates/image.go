package templates

import (
	"strings"
)

// ImageAllowed reports whether image matches one of patterns. A pattern without '*' matches
// itself only. "*" matches every image. Any other pattern ending in '*' matches on reference
// boundaries, so a wildcard never reaches into a neighbouring name: with the prefix p before the
// '*', an image matches when it starts with p and either p ends a reference part ('/', ':' or
// '@') and something follows, or the image continues right after p with '/', ':' or '@'.
// "quay.io/jupyter/*" matches quay.io/jupyter/base-notebook:1 but not quay.io/jupyterx/evil:1;
// "quay.io/jupyter/base-notebook*" matches its tags and digests but not
// quay.io/jupyter/base-notebook-evil:1 (and quay.io/jupyter/base-notebook itself). A wildcard
// admits only well-formed references (see wellFormed). After a bare host name, ':' starts a
// port: "registry.example.com*" also matches registry.example.com:5000/...
func ImageAllowed(image string, patterns []string) bool {
	for _, p := range patterns {
		if imageMatches(image, p) {
			return true
		}
	}
	return false
}

func imageMatches(image, pattern string) bool {
	prefix, wildcard := strings.CutSuffix(pattern, "*")
	if !wildcard {
		return image == pattern
	}
	if prefix == "" {
		return true
	}
	rest, ok := strings.CutPrefix(image, prefix)
	if !ok || !wellFormed(image) {
		return false
	}
	if isReferenceBoundary(prefix[len(prefix)-1]) {
		return rest != ""
	}
	return rest == "" || isReferenceBoundary(rest[0])
}

// wellFormed reports whether image uses only the characters of image references and no empty
// or parent path segment, so that no spelling an image runtime would read differently (a
// "..", a "//", a look-alike character) slips through a wildcard.
func wellFormed(image string) bool {
	for i := 0; i < len(image); i++ {
		c := image[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-', c == '/', c == ':', c == '@', c == '+':
		default:
			return false
		}
	}
	return !strings.Contains(image, "//") && !strings.Contains(image, "..") && !strings.HasPrefix(image, "/")
}

// isReferenceBoundary reports whether c separates the parts of an image reference: path
// components ('/'), the tag (':') and the digest ('@').
func isReferenceBoundary(c byte) bool {
	return c == '/' || c == ':' || c == '@'
}
