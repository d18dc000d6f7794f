package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// BinDirEnv overrides where the test bed looks for its binaries.
const BinDirEnv = "ATRIUM_BIN_DIR"

// BinDir returns the directory holding the test-bed binaries: $ATRIUM_BIN_DIR, or bin/ at the
// root of the repository that contains the working directory.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return filepath.Abs(dir)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// RepoRoot walks up from the working directory to the directory of Atrium's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("failed to get working directory: %w", err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isAtriumModule(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("failed to find the Atrium repository root (no go.mod of github.com/atrium-dev/atrium above the working directory); set " + BinDirEnv)
		}
		dir = parent
	}
}

func isAtriumModule(goMod []byte) bool {
	const prefix = "module github.com/atrium-dev/atrium\n"
	return len(goMod) >= len(prefix) && string(goMod[:len(prefix)]) == prefix
}

// Binary returns the path of a test-bed binary, or an error telling the user how to build it.
func Binary(name string) (string, error) {
	dir, err := BinDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("binary %q not found at %s: run `make tools` to build the test bed from Go modules", name, path)
	}
	return path, nil
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	return nil
}
