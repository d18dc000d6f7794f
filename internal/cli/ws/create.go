package ws

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
)

// createOptions are the flags of `ws create`; empty means "leave it to the template".
type createOptions struct {
	template, image, displayName string
	cpu, memory, storage         string
	accessStrategy               string
	stopped                      bool
}

func newCreateCommand(s *scope) *cobra.Command {
	o := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME [--template T] [--image I]",
		Short: "Create a workspace",
		Long: `Create a workspace in your organization. Everything not given is left to the template (the
organization's default template without --template): image, resources, storage, access strategy.

The hub records you as the workspace's owner (annotation atrium.dev/created-by, taken from your
credentials by the hub's admission webhook; nobody can forge or change it).`,
		Example: `  atrium ws create alice-nb --template datascience
  atrium ws create scratch --image quay.io/jupyter/base-notebook:2025-06-01 --cpu 500m --memory 1Gi --storage 5Gi`,
		Args: exactlyOneName,
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := o.workspace(args[0])
			if err != nil {
				return err
			}
			ss, err := s.connect()
			if err != nil {
				return err
			}
			ws.Namespace = ss.namespace
			// The hub's creator webhook records the owner; naming ourselves too keeps a hub
			// without the webhook configured recording one (its policy admits only our own
			// name). Without a recorded owner a workspace still runs, but OwnerOnly access and
			// per-user limits fail closed, so say so when nobody recorded one.
			user, whoErr := whoAmI(cmd.Context(), ss.config)
			if whoErr == nil && user != "" {
				ws.Annotations = map[string]string{workspacesv1alpha1.AnnotationCreatedBy: user}
			}
			if err := ss.client.Create(cmd.Context(), ws); err != nil {
				return ss.explain("create", ws.Name, err)
			}
			if ws.Annotations[workspacesv1alpha1.AnnotationCreatedBy] == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the hub did not say who you are (%v); the workspace has no recorded owner\n", whoErr)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "workspace %s created in namespace %s of organization %s\n", ws.Name, ws.Namespace, ss.org)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.template, "template", "", "WorkspaceTemplate to resolve defaults and bounds from (default: the organization's default template)")
	f.StringVar(&o.image, "image", "", "container image of the IDE, allowed by the template (default: the template's image)")
	f.StringVar(&o.displayName, "display-name", "", "human-readable name")
	f.StringVar(&o.cpu, "cpu", "", "CPU request, e.g. 500m or 2")
	f.StringVar(&o.memory, "memory", "", "memory request, e.g. 1Gi")
	f.StringVar(&o.storage, "storage", "", "size of the home volume, e.g. 10Gi")
	f.StringVar(&o.accessStrategy, "access-strategy", "", "access strategy offered by compute clusters (default: the cluster's default)")
	f.BoolVar(&o.stopped, "stopped", false, "create it stopped (desiredStatus Stopped); start it later with `ws start`")
	return cmd
}

// workspace builds the Workspace the flags describe.
func (o *createOptions) workspace(name string) (*workspacesv1alpha1.Workspace, error) {
	ws := &workspacesv1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: workspacesv1alpha1.WorkspaceSpec{
			DisplayName:   o.displayName,
			Image:         o.image,
			DesiredStatus: workspacesv1alpha1.DesiredStatusRunning,
		},
	}
	if o.stopped {
		ws.Spec.DesiredStatus = workspacesv1alpha1.DesiredStatusStopped
	}
	if o.template != "" {
		ws.Spec.TemplateRef = &workspacesv1alpha1.TemplateRef{Name: o.template}
	}
	if o.accessStrategy != "" {
		ws.Spec.AccessStrategy = &workspacesv1alpha1.AccessStrategyRef{Name: o.accessStrategy}
	}
	requests := corev1.ResourceList{}
	for _, r := range []struct {
		flag, value string
		name        corev1.ResourceName
	}{{"--cpu", o.cpu, corev1.ResourceCPU}, {"--memory", o.memory, corev1.ResourceMemory}} {
		if r.value == "" {
			continue
		}
		q, err := quantity(r.flag, r.value)
		if err != nil {
			return nil, err
		}
		requests[r.name] = q
	}
	if len(requests) > 0 {
		ws.Spec.Resources = &corev1.ResourceRequirements{Requests: requests}
	}
	if o.storage != "" {
		q, err := quantity("--storage", o.storage)
		if err != nil {
			return nil, err
		}
		ws.Spec.Storage = &workspacesv1alpha1.StorageSpec{Size: &q}
	}
	return ws, nil
}

func quantity(flag, value string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return q, fmt.Errorf("invalid %s %q: use a Kubernetes quantity such as 500m, 2, 512Mi or 10Gi", flag, value)
	}
	if q.Sign() <= 0 {
		return q, fmt.Errorf("invalid %s %q: must be positive", flag, value)
	}
	return q, nil
}

// whoAmI asks the hub for the user name of the kubeconfig's credentials.
func whoAmI(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return review.Status.UserInfo.Username, nil
}
