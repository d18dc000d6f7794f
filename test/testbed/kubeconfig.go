package testbed

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes a single-context kubeconfig for cfg (token or client-certificate auth).
func writeKubeconfig(path, contextName string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
		InsecureSkipTLSVerify:    cfg.Insecure,
	}
	kc.AuthInfos[contextName] = &clientcmdapi.AuthInfo{
		Token:                 cfg.BearerToken,
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
	}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	kc.CurrentContext = contextName
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("failed to write kubeconfig %s: %w", path, err)
	}
	return nil
}

// restConfig returns a client config with limits high enough for tests that create many objects.
func restConfig(host string, caData []byte, token string) *rest.Config {
	return &rest.Config{
		Host:            host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caData},
		QPS:             200,
		Burst:           400,
	}
}

// setKubeconfigProxy makes every cluster of the kubeconfig at path reach its server through the
// HTTP proxy at proxyURL (the kubeconfig's proxy-url; client-go then tunnels every connection,
// also to URLs other than the kubeconfig's server, through it).
func setKubeconfigProxy(path, proxyURL string) error {
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("failed to read kubeconfig %s: %w", path, err)
	}
	for _, c := range kc.Clusters {
		c.ProxyURL = proxyURL
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("failed to write kubeconfig %s: %w", path, err)
	}
	return nil
}
