package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIReferenceFresh fails when docs/api-reference.md does not match the Go types.
func TestAPIReferenceFresh(t *testing.T) {
	root := filepath.Join("..", "..")
	want, err := Generate(root)
	if err != nil {
		t.Fatalf("failed to generate: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(root, "docs", "api-reference.md"))
	if err != nil {
		t.Fatalf("failed to read docs/api-reference.md: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/api-reference.md is stale: run `make generate` (or `go run ./hack/gen-api-docs`) and commit it")
	}
}

// TestEveryKindDocumented guards the generator itself: every served kind gets a section with
// its scope, and the markers' short names reach the kinds table.
func TestEveryKindDocumented(t *testing.T) {
	md, err := Generate(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("failed to generate: %v", err)
	}
	s := string(md)
	for _, want := range []string{
		"### Workspace\n", "### WorkspaceTemplate\n", "### WorkspaceShare\n", "### WorkspaceExecutionProfile\n",
		"### ComputeCluster\n", "### LocalWorkspace\n", "### WorkspaceAccessStrategy\n",
		"| [Workspace](#workspace) | Namespaced | `aws`, `atriumws` | `atrium` |",
		"| `desiredStatus` | [DesiredStatus](#desiredstatus) |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the reference lacks %q", want)
		}
	}
	if strings.Contains(s, "WorkspaceList") {
		t.Error("list types must not be documented as kinds")
	}
}
