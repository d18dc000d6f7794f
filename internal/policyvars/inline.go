// Package policyvars writes the variables of a ValidatingAdmissionPolicy into the expressions
// that use them, so that the policies Atrium installs declare no variables.
//
// Why: the CEL compiler of k8s.io/apiserver v0.35 (kcp v0.31.2's fork, and Kubernetes v1.35.1)
// compiles the variables of every policy into one process-wide type, a map written without a
// lock (kubernetes/kubernetes#135757, fixed by #135759 for v1.36). A policy with variables that
// is compiled while another policy is compiled or evaluated can end the whole API server with
// "fatal error: concurrent map read and map write". kcp compiles the policies of the export's
// workspace once per organization that binds it, in as many goroutines, whenever a policy
// changes: `atrium hub init` run twice at once ended a test bed's kcp that way. With no
// variables nothing writes that map. The pin is TestTrapSharedVariableTypes.
//
// A policy keeps its variables in its source (named, readable); Inline substitutes each use of
// variables.<name> with the parenthesised expression, earlier variables first, in validations,
// their messages and audit annotations. What it costs: an expression used several times is
// evaluated as many times.
package policyvars

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

const prefix = "variables."

// Inline replaces every use of the spec's variables by their expressions and drops the
// variables. It fails on a use of a variable the spec does not declare, and on an expression
// whose string literal does not end.
func Inline(spec *admissionregistrationv1.ValidatingAdmissionPolicySpec) error {
	if len(spec.Variables) == 0 {
		return nil
	}
	defs := make(map[string]string, len(spec.Variables))
	for _, v := range spec.Variables {
		expr, err := substitute(v.Expression, defs)
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Name, err)
		}
		defs[v.Name] = "(" + expr + ")"
	}
	for i := range spec.Validations {
		val := &spec.Validations[i]
		var err error
		if val.Expression, err = substitute(val.Expression, defs); err != nil {
			return fmt.Errorf("validation %d: %w", i, err)
		}
		if val.MessageExpression, err = substitute(val.MessageExpression, defs); err != nil {
			return fmt.Errorf("message of validation %d: %w", i, err)
		}
	}
	for i := range spec.AuditAnnotations {
		a := &spec.AuditAnnotations[i]
		var err error
		if a.ValueExpression, err = substitute(a.ValueExpression, defs); err != nil {
			return fmt.Errorf("audit annotation %s: %w", a.Key, err)
		}
	}
	spec.Variables = nil
	return nil
}

// substitute replaces variables.<name> outside string literals with defs[name].
func substitute(expr string, defs map[string]string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\'' || c == '"':
			end, err := stringEnd(expr, i)
			if err != nil {
				return "", err
			}
			out.WriteString(expr[i:end])
			i = end
		case strings.HasPrefix(expr[i:], prefix) && (i == 0 || !identifierByte(expr[i-1]) && expr[i-1] != '.'):
			j := i + len(prefix)
			for j < len(expr) && identifierByte(expr[j]) {
				j++
			}
			name := expr[i+len(prefix) : j]
			def, ok := defs[name]
			if !ok {
				return "", fmt.Errorf("variables.%s is not declared before its use", name)
			}
			out.WriteString(def)
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

// stringEnd returns the index after the string literal that starts at expr[start] (a quote,
// single, double or tripled; a raw string's r prefix is copied as an identifier byte before it).
func stringEnd(expr string, start int) (int, error) {
	q := expr[start : start+1]
	if strings.HasPrefix(expr[start:], strings.Repeat(q, 3)) {
		q = strings.Repeat(q, 3)
	}
	raw := start > 0 && (expr[start-1] == 'r' || expr[start-1] == 'R')
	for i := start + len(q); i < len(expr); i++ {
		if expr[i] == '\\' && !raw {
			i++
			continue
		}
		if strings.HasPrefix(expr[i:], q) {
			return i + len(q), nil
		}
	}
	return 0, fmt.Errorf("string literal at %d does not end: %s", start, expr)
}

func identifierByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
