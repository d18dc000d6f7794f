package testbed

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// pki holds the files a compute cluster's control plane needs: a CA, a serving certificate for
// 127.0.0.1/localhost signed by it, and a service-account signing key pair.
type pki struct {
	CACert, ServingCert, ServingKey, SAKey, SAPub string
	CAData                                        []byte
}

// ensurePKI creates the files under dir, or reuses them when they exist (a resumed state dir).
func ensurePKI(dir string) (*pki, error) {
	p := &pki{
		CACert:      filepath.Join(dir, "ca.crt"),
		ServingCert: filepath.Join(dir, "serving.crt"),
		ServingKey:  filepath.Join(dir, "serving.key"),
		SAKey:       filepath.Join(dir, "sa.key"),
		SAPub:       filepath.Join(dir, "sa.pub"),
	}
	if data, err := os.ReadFile(p.CACert); err == nil {
		if _, err := os.Stat(p.SAPub); err == nil {
			p.CAData = data
			return p, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create pki dir: %w", err)
	}

	ca, err := newCertAuthority("atrium-testbed-ca")
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := ca.servingCert("kube-apiserver")
	if err != nil {
		return nil, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("failed to generate service-account key: %w", err)
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal service-account public key: %w", err)
	}
	p.CAData = ca.PEM
	files := []struct {
		path string
		data []byte
	}{
		{p.ServingCert, servingCert},
		{p.ServingKey, servingKey},
		{p.SAKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)})},
		{p.SAPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub})},
		// The CA last: its presence marks a complete set for ensurePKI's reuse check.
		{p.CACert, p.CAData},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", f.path, err)
		}
	}
	return p, nil
}

// randomToken returns a bearer token with 128 bits of entropy.
func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
