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
	"errors"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	computev1alpha1 "github.com/atrium-dev/atrium/apis/compute/v1alpha1"
)

// maxURLBytes caps a rendered URL or path after substitution. Browsers and proxies refuse
// far shorter URLs than this anyway.
const maxURLBytes = 8 << 10

// RenderURL renders the strategy's accessURLTemplate into an absolute http(s) URL; "" when
// the strategy has none.
func RenderURL(strategy *computev1alpha1.WorkspaceAccessStrategy, ctx Context) (string, error) {
	if strategy == nil || strategy.Spec.AccessURLTemplate == "" {
		return "", nil
	}
	u, err := renderText(strategy.Spec.AccessURLTemplate, "accessURLTemplate", ctx, absoluteURL)
	if err != nil {
		return "", fmt.Errorf("failed to render the access URL of WorkspaceAccessStrategy %q: %w", strategy.Name, err)
	}
	return u, nil
}

// RenderBasePath renders the strategy's applicationBasePathTemplate into an absolute URL
// path; "" when the strategy has none (the API's default "/" is the caller's to apply).
func RenderBasePath(strategy *computev1alpha1.WorkspaceAccessStrategy, ctx Context) (string, error) {
	if strategy == nil || strategy.Spec.ApplicationBasePathTemplate == "" {
		return "", nil
	}
	p, err := renderText(strategy.Spec.ApplicationBasePathTemplate, "applicationBasePathTemplate", ctx, basePath)
	if err != nil {
		return "", fmt.Errorf("failed to render the application base path of WorkspaceAccessStrategy %q: %w", strategy.Name, err)
	}
	return p, nil
}

// RenderProbeURL renders the URL of the strategy's access startup probe into an absolute
// http(s) URL; "" when the strategy has no probe.
func RenderProbeURL(strategy *computev1alpha1.WorkspaceAccessStrategy, ctx Context) (string, error) {
	if strategy == nil || strategy.Spec.AccessStartupProbe == nil || strategy.Spec.AccessStartupProbe.HTTPGet.URLTemplate == "" {
		return "", nil
	}
	u, err := renderText(strategy.Spec.AccessStartupProbe.HTTPGet.URLTemplate, "accessStartupProbe.httpGet.urlTemplate", ctx, absoluteURL)
	if err != nil {
		return "", fmt.Errorf("failed to render the access startup probe URL of WorkspaceAccessStrategy %q: %w", strategy.Name, err)
	}
	return u, nil
}

// renderText executes a one-line template on the tokenized context and hands the trimmed
// result, still holding tokens, to finish, which substitutes them per URL component.
func renderText(text, name string, ctx Context, finish func(*opaque, string) (string, error)) (string, error) {
	o, err := newOpaque()
	if err != nil {
		return "", err
	}
	tctx, err := o.context(ctx)
	if err != nil {
		return "", err
	}
	tmpl, err := parseTemplate(o, name, text)
	if err != nil {
		return "", err
	}
	out, err := execute(tmpl, tctx, maxURLBytes)
	if err != nil {
		return "", err
	}
	return finish(o, strings.TrimSpace(string(out)))
}

// absoluteURL checks that the platform's part of rendered is an absolute http(s) URL and
// substitutes workspace data where it stands: a host part must be a DNS-1123 label, path and
// fragment parts are path-escaped, query parts query-escaped. So workspace data can never
// choose the scheme, user, port, another host or an additional path segment.
func absoluteURL(o *opaque, rendered string) (string, error) {
	u, err := url.Parse(rendered)
	if err != nil {
		return "", fmt.Errorf("rendered URL is invalid: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("rendered URL has scheme %q, want http or https", u.Scheme)
	case u.Opaque != "":
		return "", errors.New("rendered URL is not hierarchical, want http(s)://host/path")
	case u.User != nil:
		return "", errors.New("rendered URL carries user information, which would leak into status")
	case u.Hostname() == "":
		return "", errors.New("rendered URL has no host")
	case o.holds(u.Port()):
		return "", errors.New("workspace data may not choose the URL's port")
	}
	host := u.Host
	if o.holds(host) {
		hostname, err := o.expand(u.Hostname(), hostLabel, maxURLBytes)
		if err != nil {
			return "", err
		}
		if errs := validation.IsDNS1123Subdomain(hostname); len(errs) > 0 {
			return "", fmt.Errorf("rendered host %s is invalid: %s", clip(hostname), strings.Join(errs, "; "))
		}
		// IsDNS1123Subdomain bounds the name, not its labels; DNS and TLS certificates do.
		for _, label := range strings.Split(hostname, ".") {
			if len(label) > validation.DNS1123LabelMaxLength {
				return "", fmt.Errorf("rendered host %s has a label longer than %d characters", clip(hostname), validation.DNS1123LabelMaxLength)
			}
		}
		host = hostname
		if p := u.Port(); p != "" {
			host += ":" + p
		}
	}
	path, err := escapedPath(o, u)
	if err != nil {
		return "", err
	}
	out := u.Scheme + "://" + host + path
	if u.RawQuery != "" || u.ForceQuery {
		q, err := o.expand(u.RawQuery, escaper(url.QueryEscape), maxURLBytes)
		if err != nil {
			return "", err
		}
		out += "?" + q
	}
	if u.Fragment != "" {
		f, err := o.expand(u.EscapedFragment(), escaper(url.PathEscape), maxURLBytes)
		if err != nil {
			return "", err
		}
		out += "#" + f
	}
	if len(out) > maxURLBytes {
		return "", fmt.Errorf("%w: rendered URL is longer than %d bytes", errTooLarge, maxURLBytes)
	}
	// The components were built to stay what the platform's text made them; check it.
	final, err := url.Parse(out)
	if err != nil {
		return "", fmt.Errorf("rendered URL %s is invalid: %w", clip(out), err)
	}
	if final.Scheme != u.Scheme || final.Host != host || final.User != nil {
		return "", fmt.Errorf("rendered URL %s changed its scheme or host on substitution", clip(out))
	}
	return out, nil
}

// basePath checks that rendered is an absolute URL path and path-escapes workspace data
// into it.
func basePath(o *opaque, rendered string) (string, error) {
	if !strings.HasPrefix(rendered, "/") || strings.HasPrefix(rendered, "//") || strings.Contains(rendered, `\`) {
		return "", fmt.Errorf("rendered base path %s must start with a single '/'", clip(rendered))
	}
	u, err := url.Parse(rendered)
	if err != nil {
		return "", fmt.Errorf("rendered base path is invalid: %w", err)
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("rendered base path %s must be a path only", clip(rendered))
	}
	p, err := escapedPath(o, u)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(p, "//") {
		// An empty value at the start makes "/{{ x }}/y" protocol-relative.
		return "", fmt.Errorf("rendered base path %s must start with a single '/'", clip(p))
	}
	if len(p) > maxURLBytes {
		return "", fmt.Errorf("%w: rendered base path is longer than %d bytes", errTooLarge, maxURLBytes)
	}
	return p, nil
}

// escapedPath substitutes path-escaped workspace data into u's path and refuses "." and
// ".." segments, which browsers and proxies resolve, so data cannot climb out of its segment.
func escapedPath(o *opaque, u *url.URL) (string, error) {
	p, err := o.expand(u.EscapedPath(), escaper(url.PathEscape), maxURLBytes)
	if err != nil {
		return "", err
	}
	for _, seg := range strings.Split(p, "/") {
		if s, err := url.PathUnescape(seg); err == nil && (s == "." || s == "..") {
			return "", fmt.Errorf("rendered path %s has a %q segment", clip(p), s)
		}
	}
	return p, nil
}

func escaper(f func(string) string) func(string) (string, error) {
	return func(s string) (string, error) { return f(s), nil }
}

// hostLabel admits workspace data into a host only as a whole DNS-1123 label, so it cannot
// add a subdomain level, a port or user information. Templates pass tenant values through
// dnsLabel to satisfy this.
func hostLabel(s string) (string, error) {
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return "", fmt.Errorf("workspace data %s in the URL host must be a DNS-1123 label (use dnsLabel): %s", clip(s), strings.Join(errs, "; "))
	}
	return s, nil
}
