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

package exports

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// generatedFiles lists, relative to root, every file hack/generate.sh owns.
func generatedFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	add := func(dir string, keep func(name string) bool) {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if d.IsDir() || !keep(d.Name()) {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files[rel] = raw
			return nil
		})
		if err != nil {
			t.Fatalf("failed to list generated files under %s: %v", dir, err)
		}
	}
	isYAML := func(name string) bool { return strings.HasSuffix(name, ".yaml") }
	add(filepath.Join("exports", "crds"), isYAML)
	add(filepath.Join("exports", "resources"), isYAML)
	add("apis", func(name string) bool { return name == "zz_generated.deepcopy.go" })
	return files
}

// TestGeneratedFilesAreFresh regenerates everything into a temporary directory
// and compares it with the committed files.
func TestGeneratedFilesAreFresh(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("failed to find the repository root: %v", err)
	}
	for _, tool := range []string{"controller-gen", "apigen"} {
		if _, err := os.Stat(filepath.Join(root, "bin", tool)); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("bin/%s is missing; CI must run 'make tools' before the tests", tool)
			}
			t.Skipf("bin/%s is missing (run 'make tools'); skipping the staleness check outside CI", tool)
		}
	}

	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(root, "hack", "generate.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ATRIUM_GENERATE_OUT="+out)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/generate.sh failed: %v\n%s", err, output)
	}

	committed := generatedFiles(t, root)
	fresh := generatedFiles(t, out)

	var problems []string
	for name, want := range fresh {
		got, ok := committed[name]
		switch {
		case !ok:
			problems = append(problems, name+" is missing")
		case !bytes.Equal(got, want):
			problems = append(problems, name+" differs")
		}
	}
	for name := range committed {
		if _, ok := fresh[name]; !ok {
			problems = append(problems, name+" is no longer generated")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Fatalf("generated files are stale: run make generate (hack/generate.sh)\n  %s", strings.Join(problems, "\n  "))
	}
}
