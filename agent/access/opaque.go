/*
Copyright The Atrium Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package access

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// tokenPrefixBase starts every opaque token. It is followed by a random nonce and "q", then a
// zero-padded index and "q": letters and digits only, starting with a letter, so YAML reads a
// token as a plain string wherever it stands, url.Parse keeps it as it is in every URL
// component, and quoting leaves it intact. The nonce is fresh per render, so no template or
// tenant value can spell a token that was not handed out.
const tokenPrefixBase = "atrph"

// errTooLarge marks output over one of the size caps.
var errTooLarge = errors.New("output too large")

// opaque hands out tokens that stand for real strings during one render.
type opaque struct {
	prefix string
	reals  []string
	tokens map[string]string
}

func newOpaque() (*opaque, error) {
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("failed to read a random nonce: %w", err)
	}
	return &opaque{
		prefix: tokenPrefixBase + hex.EncodeToString(nonce[:]) + "q",
		tokens: map[string]string{},
	}, nil
}

// value returns the token for a string value. The empty string gets one too: were it left
// real, an empty value would change what the YAML means (`a: ` is null, `[, x]` does not
// parse), and tenant data must not be able to change that either.
func (o *opaque) value(real string) string {
	return o.key(real)
}

// key returns the token for a string; the same string always gets the same token.
func (o *opaque) key(real string) string {
	if t, ok := o.tokens[real]; ok {
		return t
	}
	// Zero padding keeps the lexical order of tokens equal to the order they were handed
	// out in, so ranging over a map of tokens follows its sorted real keys.
	t := fmt.Sprintf("%s%06dq", o.prefix, len(o.reals))
	o.reals = append(o.reals, real)
	o.tokens[real] = t
	return t
}

// holds reports whether s contains a token, i.e. is derived from context data.
func (o *opaque) holds(s string) bool {
	return strings.Contains(s, o.prefix)
}

// derive returns result as a token when it was computed from context data (in), so the
// results of template functions stay opaque too.
func (o *opaque) derive(in, result string) string {
	if o.holds(in) {
		return o.value(result)
	}
	return result
}

// resolve replaces every token in s by its real value.
func (o *opaque) resolve(s string) (string, error) {
	return o.expand(s, nil, maxObjectBytes)
}

// expand replaces every token in s by esc(real value) (the real value itself when esc is
// nil), in one pass: a real value is never scanned again, so it cannot expand further.
// Text that only looks like a token is kept as it is. The result may not exceed limit bytes.
func (o *opaque) expand(s string, esc func(string) (string, error), limit int) (string, error) {
	if !o.holds(s) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, o.prefix)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		rest := s[i+len(o.prefix):]
		n, idx := 0, 0
		for n < len(rest) && n < 10 && rest[n] >= '0' && rest[n] <= '9' {
			idx = idx*10 + int(rest[n]-'0')
			n++
		}
		if n == 0 || n >= len(rest) || rest[n] != 'q' || idx >= len(o.reals) {
			b.WriteString(o.prefix)
			s = rest
			continue
		}
		real := o.reals[idx]
		if esc != nil {
			var err error
			if real, err = esc(real); err != nil {
				return "", err
			}
		}
		if b.Len()+len(real) > limit {
			return "", fmt.Errorf("%w: more than %d bytes after substituting workspace data", errTooLarge, limit)
		}
		b.WriteString(real)
		s = rest[n+1:]
	}
	b.WriteString(s)
	if b.Len() > limit {
		return "", fmt.Errorf("%w: more than %d bytes after substituting workspace data", errTooLarge, limit)
	}
	return b.String(), nil
}

// context returns c with every string replaced by its token. Strings that are not valid
// UTF-8 are refused: they cannot come from a Kubernetes object, and would not survive JSON.
func (o *opaque) context(c Context) (Context, error) {
	var bad []string
	str := func(field, s string) string {
		if !utf8.ValidString(s) {
			bad = append(bad, field)
		}
		return o.value(s)
	}
	list := func(field string, in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = str(fmt.Sprintf("%s[%d]", field, i), s)
		}
		return out
	}
	dict := func(field string, in map[string]string) map[string]string {
		out := make(map[string]string, len(in))
		for k, v := range in {
			if !utf8.ValidString(k) {
				bad = append(bad, field+" key")
			}
			out[o.key(k)] = str(field+" value", v)
		}
		return out
	}
	// Hand out the tokens of all map keys first and in sorted order (see key), so ranging
	// over labels or annotations visits them in the same order as over the real maps.
	keys := map[string]bool{}
	for _, m := range []map[string]string{c.Workspace.Labels, c.Workspace.Annotations} {
		for k := range m {
			keys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		o.key(k)
	}
	w := c.Workspace
	out := Context{
		Workspace: WorkspaceContext{
			Name:            str("Workspace.Name", w.Name),
			Namespace:       str("Workspace.Namespace", w.Namespace),
			DisplayName:     str("Workspace.DisplayName", w.DisplayName),
			Labels:          dict("Workspace.Labels", w.Labels),
			Annotations:     dict("Workspace.Annotations", w.Annotations),
			Owner:           str("Workspace.Owner", w.Owner),
			AllowedUsers:    list("Workspace.AllowedUsers", w.AllowedUsers),
			AllowedGroups:   list("Workspace.AllowedGroups", w.AllowedGroups),
			AccessType:      str("Workspace.AccessType", w.AccessType),
			AppType:         str("Workspace.AppType", w.AppType),
			OriginCluster:   str("Workspace.OriginCluster", w.OriginCluster),
			OriginNamespace: str("Workspace.OriginNamespace", w.OriginNamespace),
			OriginName:      str("Workspace.OriginName", w.OriginName),
			HostLabel:       str("Workspace.HostLabel", w.HostLabel),
		},
		AccessStrategy: StrategyContext{
			Name:        str("AccessStrategy.Name", c.AccessStrategy.Name),
			DisplayName: str("AccessStrategy.DisplayName", c.AccessStrategy.DisplayName),
		},
		Service: ServiceContext{
			Name:      str("Service.Name", c.Service.Name),
			Namespace: str("Service.Namespace", c.Service.Namespace),
			Port:      c.Service.Port,
		},
	}
	if len(bad) > 0 {
		return Context{}, fmt.Errorf("failed to use workspace data: not valid UTF-8 in %s", strings.Join(bad, ", "))
	}
	return out, nil
}
