// Package kubeconfig implements `atrium kubeconfig`: a tenant kubeconfig for one organization.
package kubeconfig

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/atrium-dev/atrium/hub/bootstrap"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
	"github.com/atrium-dev/atrium/internal/kcp"
)

type options struct {
	org, user, token, tokenFile, output string
}

// NewCommand returns `atrium kubeconfig`.
func NewCommand(flags *clientflags.Flags) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "kubeconfig --org NAME --user USER",
		Short: "Write a tenant kubeconfig for an organization",
		Long: `Write a kubeconfig that points at the organization's logical cluster
(/clusters/root:orgs:<org>) and authenticates as USER with a bearer token.

The server and CA come from --kubeconfig (the hub admin's). The token is --token, or USER's line
in --token-file (a kube-style static token file: token,user,uid,"groups"; the local platform
keeps it at <state-dir>/hub/tokens.csv).`,
		Example: "  atrium kubeconfig --org acme --user alice --token-file .atrium/hub/tokens.csv -o acme-alice.kubeconfig",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := o.build(flags)
			if err != nil {
				return err
			}
			if o.output == "" || o.output == "-" {
				_, err := cmd.OutOrStdout().Write(out)
				return err
			}
			if err := os.WriteFile(o.output, out, 0o600); err != nil {
				return fmt.Errorf("failed to write %s: %w", o.output, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (organization %s, user %s)\n", o.output, o.org, o.user)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.org, "org", "", "organization name (required)")
	cmd.Flags().StringVar(&o.user, "user", "", "user name (required)")
	cmd.Flags().StringVar(&o.token, "token", "", "bearer token of the user")
	cmd.Flags().StringVar(&o.tokenFile, "token-file", os.Getenv("ATRIUM_TOKEN_FILE"), "static token file to look the user's token up in (default $ATRIUM_TOKEN_FILE)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

func (o *options) build(flags *clientflags.Flags) ([]byte, error) {
	if o.org == "" || o.user == "" {
		return nil, errors.New("--org and --user are required")
	}
	if err := bootstrap.ValidateOrgName(o.org); err != nil {
		return nil, err
	}
	token := o.token
	if token == "" {
		if o.tokenFile == "" {
			return nil, errors.New("no credentials: pass --token or --token-file")
		}
		var err error
		if token, err = lookupToken(o.tokenFile, o.user); err != nil {
			return nil, err
		}
	}
	cfg, err := flags.RESTConfig()
	if err != nil {
		return nil, err
	}
	name := o.org + "-" + o.user
	kc := clientcmdapi.NewConfig()
	kc.Clusters[o.org] = &clientcmdapi.Cluster{
		Server:                   kcp.BaseHost(cfg.Host) + "/clusters/" + bootstrap.OrgPath(o.org).String(),
		CertificateAuthorityData: cfg.CAData,
		CertificateAuthority:     cfg.CAFile,
		InsecureSkipTLSVerify:    cfg.Insecure,
	}
	kc.AuthInfos[o.user] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: o.org, AuthInfo: o.user, Namespace: "default"}
	kc.CurrentContext = name
	if err := clientcmdapi.FlattenConfig(kc); err != nil {
		return nil, fmt.Errorf("failed to inline the CA: %w", err)
	}
	return clientcmd.Write(*kc)
}

func lookupToken(path, user string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("failed to read token file: %w", err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return "", fmt.Errorf("failed to parse token file %s: %w", path, err)
	}
	for _, r := range records {
		if len(r) >= 2 && strings.TrimSpace(r[1]) == user {
			return strings.TrimSpace(r[0]), nil
		}
	}
	return "", fmt.Errorf("user %q is not in the token file %s", user, path)
}
