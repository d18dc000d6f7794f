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
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// builtinsAllowed are the text/template builtins templates may use besides this package's
// functions. They only test truthiness: of lists and maps, whose length is real, and of
// strings, which is always true for a token (see checkStringConditions).
// The other builtins (print, printf, println, html, js, urlquery, slice, call) would look at
// or cut tokens instead of the values they stand for, so they are not offered.
var builtinsAllowed = map[string]bool{"and": true, "or": true, "not": true}

// templateFuncs are the functions templates may call. Each one resolves tokens before it
// computes and returns a fresh token for any string derived from workspace data, so a
// template can transform tenant values but never read them into its own text. None of them
// reaches the environment, the file system or the network.
func templateFuncs(o *opaque) template.FuncMap {
	str1 := func(f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) {
			real, err := o.resolve(s)
			if err != nil {
				return "", err
			}
			return checkedDerive(o, s, f(real))
		}
	}
	return template.FuncMap{
		"lower":    str1(strings.ToLower),
		"upper":    str1(strings.ToUpper),
		"dnsLabel": str1(dnsLabel),
		// pathEscape is for routing rules inside resources (a Traefik match, an Ingress
		// path), where a value must stay one path segment and cannot close a quote. URL
		// templates need no pathEscape: RenderURL escapes workspace data itself.
		"pathEscape": str1(url.PathEscape),
		"trunc": func(n int, s string) (string, error) {
			if n < 0 {
				return "", fmt.Errorf("trunc: negative length %d", n)
			}
			real, err := o.resolve(s)
			if err != nil {
				return "", err
			}
			return checkedDerive(o, s, truncRunes(real, n))
		},
		"replace": func(old, new, s string) (string, error) {
			var reals [3]string
			for i, v := range []string{old, new, s} {
				r, err := o.resolve(v)
				if err != nil {
					return "", err
				}
				reals[i] = r
			}
			if reals[0] == "" {
				return "", errors.New("replace: empty string to replace")
			}
			return checkedDerive(o, old+new+s, strings.ReplaceAll(reals[2], reals[0], reals[1]))
		},
		// default returns d when v is empty, judging a token by the value it stands for.
		"default": func(d, v any) (any, error) {
			if s, ok := v.(string); ok {
				real, err := o.resolve(s)
				if err != nil || real == "" {
					return d, err
				}
				return v, nil
			}
			if isEmpty(v) {
				return d, nil
			}
			return v, nil
		},
		// quote makes a YAML double-quoted scalar. Tokens are letters and digits, so they pass
		// through unchanged and are substituted inside the quoted string afterwards. Quoting
		// to ASCII with Go escapes keeps the output printable; YAML knows every Go escape.
		"quote": func(v any) (string, error) {
			s, err := toString(v)
			if err != nil {
				return "", fmt.Errorf("quote: %w", err)
			}
			return strconv.QuoteToASCII(s), nil
		},
		// join only concatenates, so tokens stay tokens and need no resolving.
		"join": func(sep string, list any) (string, error) {
			items, err := toStrings(list)
			if err != nil {
				return "", fmt.Errorf("join: %w", err)
			}
			out := strings.Join(items, sep)
			if len(out) > maxTemplateOutputBytes {
				return "", fmt.Errorf("join: %w: more than %d bytes", errTooLarge, maxTemplateOutputBytes)
			}
			return out, nil
		},
		"index": func(item any, key any) (any, error) { return index(o, item, key) },
		"len": func(item any) (int, error) {
			if s, ok := item.(string); ok {
				real, err := o.resolve(s)
				return len(real), err
			}
			v := reflect.ValueOf(item)
			switch v.Kind() {
			case reflect.Map, reflect.Slice, reflect.Array:
				return v.Len(), nil
			}
			return 0, fmt.Errorf("len of %T", item)
		},
		"eq": func(a any, bs ...any) (bool, error) {
			if len(bs) == 0 {
				return false, errors.New("eq: missing argument for comparison")
			}
			for _, b := range bs {
				c, err := compare(o, a, b, true)
				if err != nil {
					return false, fmt.Errorf("eq: %w", err)
				}
				if c == 0 {
					return true, nil
				}
			}
			return false, nil
		},
		"ne": comparison(o, "ne", true, func(c int) bool { return c != 0 }),
		"lt": comparison(o, "lt", false, func(c int) bool { return c < 0 }),
		"le": comparison(o, "le", false, func(c int) bool { return c <= 0 }),
		"gt": comparison(o, "gt", false, func(c int) bool { return c > 0 }),
		"ge": comparison(o, "ge", false, func(c int) bool { return c >= 0 }),
	}
}

// checkedDerive bounds what a function may produce, so a template cannot amplify a large
// tenant value without limit before the output caps apply.
func checkedDerive(o *opaque, in, result string) (string, error) {
	if len(result) > maxObjectBytes {
		return "", fmt.Errorf("%w: a function result of more than %d bytes", errTooLarge, maxObjectBytes)
	}
	return o.derive(in, result), nil
}

func comparison(o *opaque, name string, equality bool, ok func(int) bool) func(a, b any) (bool, error) {
	return func(a, b any) (bool, error) {
		c, err := compare(o, a, b, equality)
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		return ok(c), nil
	}
}

// compare orders two basic values the way the text/template builtins do (any integer
// against any integer, strings by their real values); bools only compare for equality.
func compare(o *opaque, a, b any, equality bool) (int, error) {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	switch {
	case isString(av) && isString(bv):
		as, err := o.resolve(av.String())
		if err != nil {
			return 0, err
		}
		bs, err := o.resolve(bv.String())
		if err != nil {
			return 0, err
		}
		return strings.Compare(as, bs), nil
	case isInt(av) && isInt(bv):
		ai, aok := asInt64(av)
		bi, bok := asInt64(bv)
		switch {
		case aok && bok:
			return cmpOrdered(ai, bi), nil
		case !aok && !bok:
			return cmpOrdered(av.Uint(), bv.Uint()), nil
		case !aok:
			return 1, nil // a is an unsigned integer above every int64
		default:
			return -1, nil
		}
	case isFloat(av) && isFloat(bv):
		return cmpOrdered(av.Float(), bv.Float()), nil
	case equality && av.Kind() == reflect.Bool && bv.Kind() == reflect.Bool:
		if av.Bool() == bv.Bool() {
			return 0, nil
		}
		return 1, nil
	}
	return 0, fmt.Errorf("incompatible types for comparison: %T and %T", a, b)
}

func cmpOrdered[T int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isString(v reflect.Value) bool { return v.IsValid() && v.Kind() == reflect.String }

func isFloat(v reflect.Value) bool {
	return v.IsValid() && (v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64)
}

func isInt(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// asInt64 returns v as an int64, false for an unsigned value above math.MaxInt64.
func asInt64(v reflect.Value) (int64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	}
	u := v.Uint()
	return int64(u), u <= 1<<63-1
}

// index looks up a label or annotation by its real key, or a list element by position.
// Keys are tokens in the maps templates see, so the real key is translated first; a missing
// key gives "", like the text/template builtin.
func index(o *opaque, item, key any) (any, error) {
	switch m := item.(type) {
	case map[string]string:
		k, ok := key.(string)
		if !ok {
			return nil, fmt.Errorf("index: map key must be a string, not %T", key)
		}
		if v, ok := m[k]; ok {
			return v, nil
		}
		real, err := o.resolve(k)
		if err != nil {
			return nil, err
		}
		if t, ok := o.tokens[real]; ok {
			return m[t], nil
		}
		return "", nil
	case []string:
		i := reflect.ValueOf(key)
		if !isInt(i) {
			return nil, fmt.Errorf("index: list index must be an integer, not %T", key)
		}
		n, ok := asInt64(i)
		if !ok || n < 0 || n >= int64(len(m)) {
			return nil, fmt.Errorf("index: index %v out of range [0,%d)", key, len(m))
		}
		return m[n], nil
	}
	return nil, fmt.Errorf("index: cannot index %T", item)
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Map, reflect.Slice, reflect.Array:
		return rv.Len() == 0
	case reflect.Bool:
		return !rv.Bool()
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	if isInt(rv) || isFloat(rv) {
		return rv.IsZero()
	}
	return false
}

func toString(v any) (string, error) {
	rv := reflect.ValueOf(v)
	switch {
	case isString(rv):
		return rv.String(), nil
	case isInt(rv), isFloat(rv), rv.IsValid() && rv.Kind() == reflect.Bool:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("cannot use %T as a string", v)
}

func toStrings(list any) ([]string, error) {
	switch l := list.(type) {
	case []string:
		return l, nil
	case []any:
		out := make([]string, len(l))
		for i, v := range l {
			s, err := toString(v)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot join %T", list)
}

// dnsLabel turns s into a DNS-1123 label: lower case, every run of other characters
// replaced by one '-', no '-' at either end, at most 63 characters. It may return "".
func dnsLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				if b.Len()+2 > 63 {
					break
				}
				b.WriteByte('-')
			}
			if b.Len()+1 > 63 {
				break
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return strings.TrimRight(b.String(), "-")
}

// truncRunes cuts s to at most n runes, so the result stays valid UTF-8.
func truncRunes(s string, n int) string {
	if n >= len(s) {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// parseTemplate parses text with the allowed functions and refuses any other function,
// including the builtins not offered (see builtinsAllowed).
func parseTemplate(o *opaque, name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(templateFuncs(o)).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", name, err)
	}
	funcs := templateFuncs(o)
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if err := checkStringConditions(tt.Root); err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", name, err)
		}
		var bad error
		walkIdentifiers(tt.Root, func(id *parse.IdentifierNode) {
			if _, ok := funcs[id.Ident]; !ok && !builtinsAllowed[id.Ident] && bad == nil {
				bad = fmt.Errorf("failed to parse %s: function %q is not available in access templates", name, id.Ident)
			}
		})
		if bad != nil {
			return nil, bad
		}
	}
	return t, nil
}

func walkIdentifiers(n parse.Node, f func(*parse.IdentifierNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkIdentifiers(c, f)
		}
	case *parse.ActionNode:
		walkIdentifiers(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkIdentifiers(c, f)
		}
	case *parse.CommandNode:
		for _, c := range n.Args {
			walkIdentifiers(c, f)
		}
	case *parse.ChainNode:
		walkIdentifiers(n.Node, f)
	case *parse.IdentifierNode:
		f(n)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walkIdentifiers(n.Pipe, f)
	}
}

// checkStringConditions refuses `if .Workspace.Owner` and `with .Workspace.Owner`: every
// string is a non-empty token while the template runs, so such a test would always pass,
// even for "". Only fields reached from the root are known; eq, ne and default see through
// tokens and are the way to test a string.
func checkStringConditions(n parse.Node) error {
	var err error
	var visit func(parse.Node)
	visit = func(n parse.Node) {
		if err != nil || n == nil {
			return
		}
		var b *parse.BranchNode
		kw := "with"
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				visit(c)
			}
			return
		case *parse.IfNode:
			b, kw = &n.BranchNode, "if"
		case *parse.WithNode:
			b = &n.BranchNode
		case *parse.RangeNode:
			b = &n.BranchNode
		default:
			return
		}
		if b.NodeType != parse.NodeRange && b.Pipe != nil && len(b.Pipe.Cmds) == 1 && len(b.Pipe.Cmds[0].Args) == 1 {
			if f, ok := b.Pipe.Cmds[0].Args[0].(*parse.FieldNode); ok && isStringField(f.Ident) {
				err = fmt.Errorf("%s %s tests a string, which is always set while templates run; compare instead, e.g. ne %s \"\"", kw, b.Pipe, f)
				return
			}
		}
		if b.List != nil {
			visit(b.List)
		}
		if b.ElseList != nil {
			visit(b.ElseList)
		}
	}
	visit(n)
	return err
}

// isStringField reports whether the field path leads from a Context to a string.
func isStringField(path []string) bool {
	t := reflect.TypeOf(Context{})
	for _, name := range path {
		if t.Kind() != reflect.Struct {
			return false
		}
		f, ok := t.FieldByName(name)
		if !ok {
			return false
		}
		t = f.Type
	}
	return t.Kind() == reflect.String
}

func walkBranch(b *parse.BranchNode, f func(*parse.IdentifierNode)) {
	walkIdentifiers(b.Pipe, f)
	walkIdentifiers(b.List, f)
	if b.ElseList != nil {
		walkIdentifiers(b.ElseList, f)
	}
}

// execute runs t on data, refusing output beyond limit bytes.
func execute(t *template.Template, data any, limit int) ([]byte, error) {
	w := &cappedBuffer{limit: limit}
	if err := t.Execute(w, data); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("failed to execute %s: %w", t.Name(), err)
		}
		hint := ""
		if strings.Contains(err.Error(), "map has no entry for key") {
			// Label and annotation keys are tokens, so .Workspace.Labels.team cannot find
			// "team"; say how to look a tenant key up instead.
			hint = ` (label and annotation keys are opaque to templates; look them up with index, e.g. index .Workspace.Labels "team")`
		}
		return nil, fmt.Errorf("failed to execute %s: %w%s", t.Name(), err, hint)
	}
	return w.buf.Bytes(), nil
}

type cappedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.limit {
		return 0, fmt.Errorf("%w: template output exceeds %d bytes", errTooLarge, c.limit)
	}
	return c.buf.Write(p)
}
