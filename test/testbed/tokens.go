package testbed

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// User is an identity a static token file authenticates.
type User struct {
	Name   string
	Token  string
	Groups []string
}

// tokenFile is the static token file an API server reads at start (--token-auth-file).
// It stands in for a real identity provider: the local platform's tenants and operators.
type tokenFile struct {
	path  string
	users map[string]User
}

// ensureTokenFile loads path if it exists and adds any missing users with fresh tokens.
func ensureTokenFile(path string, want []User) (*tokenFile, error) {
	tf := &tokenFile{path: path, users: map[string]User{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("failed to read token file: %w", err)
	default:
		records, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("failed to parse token file %s: %w", path, err)
		}
		for _, r := range records {
			if len(r) < 3 {
				continue
			}
			u := User{Token: r[0], Name: r[1]}
			if len(r) > 3 && r[3] != "" {
				u.Groups = strings.Split(r[3], ",")
			}
			tf.users[u.Name] = u
		}
	}
	changed := false
	for _, u := range want {
		if _, ok := tf.users[u.Name]; ok {
			continue
		}
		if u.Token == "" {
			if u.Token, err = randomToken(); err != nil {
				return nil, err
			}
		}
		tf.users[u.Name] = u
		changed = true
	}
	if changed || data == nil {
		if err := tf.write(); err != nil {
			return nil, err
		}
	}
	return tf, nil
}

func (tf *tokenFile) write() error {
	names := make([]string, 0, len(tf.users))
	for n := range tf.users {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	w := csv.NewWriter(&b)
	for _, n := range names {
		u := tf.users[n]
		if err := w.Write([]string{u.Token, u.Name, u.Name, strings.Join(u.Groups, ",")}); err != nil {
			return fmt.Errorf("failed to encode token file: %w", err)
		}
	}
	w.Flush()
	if err := os.WriteFile(tf.path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("failed to write token file: %w", err)
	}
	return nil
}

func (tf *tokenFile) token(user string) (string, error) {
	u, ok := tf.users[user]
	if !ok {
		return "", fmt.Errorf("user %q is not in the token file %s: add it to the test bed's users", user, tf.path)
	}
	return u.Token, nil
}
