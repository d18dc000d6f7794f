// Package docs holds Atrium's documentation; its test keeps the relative links working.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestRelativeLinksResolve fails when a page links to a file of the repository that does not
// exist (external links and anchors are not checked).
func TestRelativeLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob("*.md")
	pages = append(pages, filepath.Join("..", "README.md"),
		filepath.Join("..", "deploy", "charts", "atrium-agent", "README.md"),
		filepath.Join("..", "deploy", "charts", "atrium-hub", "README.md"),
		filepath.Join("..", "deploy", "charts", "atrium-console", "README.md"))
	for _, page := range pages {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(raw), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, m[1])
			}
		}
	}
}
