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

// Package access owns how a workspace is exposed on a compute cluster: it renders a
// WorkspaceAccessStrategy's access resource templates into objects, resolves the access URL,
// the application base path and the access startup probe URL, and runs that probe.
//
// Strategies are written by the platform team and are trusted; the workspace data the
// templates reference (names, labels, annotations, display names, owners, shares) comes from
// tenants and is not. The rule "tenant data is data" holds by construction, not by escaping:
//
//   - Templates never see a string from the Context. Every string (and every label and
//     annotation key) is replaced by an opaque token made of a random per-render nonce and an
//     index, lower-case letters and digits only. Only Service.Port (a number) and the shape
//     of lists and maps (their length, their key set) are real.
//   - The rendered text is therefore written by the platform alone. It is parsed as exactly
//     one YAML mapping, its kind and apiVersion are checked against the declared ones, and
//     only then are the tokens inside string scalars and mapping keys replaced by the real
//     values, in one pass. A tenant value can only ever become (part of) a string.
//   - namespace, name and the selector labels are set by this package after substitution.
//   - The template functions are a small allow-list that resolves tokens before computing
//     (lower, trunc, dnsLabel, eq, ...) and returns a fresh token for any result derived from
//     tenant data, so templates can still inspect and transform tenant values.
//   - Output is capped before parsing and after substitution.
//
// Template authors see the consequences: the empty string is a token too (so an empty value
// cannot turn `a: {{ x }}` into null or break `[{{ x }}]`), hence `if`/`with` on a string
// field is refused at parse time; test with `ne .Workspace.Owner ""` or `default`. Label
// and annotation keys are tokens, so look them up with `index .Workspace.Labels "team"`.
// The functions are lower, upper, trunc, replace, dnsLabel, pathEscape, default, quote,
// join, index, len, eq, ne, lt, le, gt, ge and the builtins and, or, not.
//
// URLs are rendered the same way and substituted per URL component: path and fragment
// segments are path-escaped, query values query-escaped, and tenant data in the host must be
// a DNS-1123 label, so tenant data cannot choose another scheme, host, port or path segment.
package access
