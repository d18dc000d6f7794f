package testbed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/atrium-dev/atrium/agent/computepolicy"
)

// TestBedServiceAccounts are the service accounts workspace pods may run as on a test-bed
// compute cluster: the namespace default and the one the hub suite's execution profile "ml"
// names.
var TestBedServiceAccounts = []string{"default", "ml-runner"}

// installAgentPolicy installs the agent's confinement policy (agent/computepolicy) for
// ComputeAgentUser, as the agent chart does for its service account, and waits until the API
// server enforces it: a policy takes effect a moment after it is created.
func (c *ComputeCluster) installAgentPolicy(ctx context.Context) error {
	allowed := c.opts.AllowedServiceAccounts
	if len(allowed) == 0 {
		allowed = TestBedServiceAccounts
	}
	policy, binding, err := computepolicy.Objects(computepolicy.Options{AgentUsername: ComputeAgentUser, AllowedServiceAccounts: allowed})
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	policies := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies()
	if old, err := policies.Get(ctx, policy.Name, metav1.GetOptions{}); err == nil {
		policy.ResourceVersion = old.ResourceVersion
		_, err = policies.Update(ctx, policy, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("failed to update the agent's admission policy: %w", err)
		}
	} else if _, err := policies.Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("failed to create the agent's admission policy: %w", err)
	}
	bindings := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings()
	if old, err := bindings.Get(ctx, binding.Name, metav1.GetOptions{}); err == nil {
		binding.ResourceVersion = old.ResourceVersion
		_, err = bindings.Update(ctx, binding, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("failed to update the agent's admission policy binding: %w", err)
		}
	} else if _, err := bindings.Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("failed to create the agent's admission policy binding: %w", err)
	}

	agentCfg, err := c.ConfigFor(ComputeAgentUser)
	if err != nil {
		return err
	}
	agent, err := kubernetes.NewForConfig(agentCfg)
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "atrium-agent-policy-probe"}}
	procs := []*process{c.etcd, c.apiServer}
	return waitFor(ctx, c.Name+" agent admission policy enforced", 200*time.Millisecond, procs, func(ctx context.Context) (bool, error) {
		_, err := agent.CoreV1().ConfigMaps("kube-system").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		switch {
		case err == nil:
			return false, errors.New("the agent may still write in kube-system")
		case apierrors.IsInvalid(err) || apierrors.IsForbidden(err):
			if strings.Contains(err.Error(), computepolicy.PolicyName) || strings.Contains(err.Error(), "workspace namespaces it manages") {
				return true, nil
			}
			return false, err
		default:
			return false, err
		}
	})
}
