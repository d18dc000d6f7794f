package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/atrium-dev/atrium/agent/materialize"
	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
)

// logsOptions are the flags of `ws logs`.
type logsOptions struct {
	clusterKubeconfig  string
	clusterKubeconfigs string
	follow             bool
	tail               int64
}

func newLogsCommand(s *scope) *cobra.Command {
	o := &logsOptions{tail: -1}
	cmd := &cobra.Command{
		Use:   "logs NAME [-f] [--tail N]",
		Short: "Print the logs of a workspace's pod, read from its compute cluster",
		Long: `Print the logs of the workspace's IDE container. They live on the compute cluster the workspace
is placed on, which a tenant kubeconfig cannot reach: this needs a kubeconfig of that compute
cluster from the platform team, --cluster-kubeconfig FILE, or a directory of
cluster-<name>.kubeconfig files, --cluster-kubeconfigs DIR (what ` + "`atrium dev up`" + ` writes in
<state-dir>/kubeconfigs; default $ATRIUM_CLUSTER_KUBECONFIGS). The pod is the one labelled
atrium.dev/workspace=NAME in the workspace's status.placement.localNamespace.`,
		Example: `  atrium ws logs alice-nb --cluster-kubeconfigs .atrium/kubeconfigs
  atrium ws logs alice-nb -f --tail 100 --cluster-kubeconfig east.kubeconfig`,
		Args:              exactlyOneName,
		ValidArgsFunction: completeNames(s),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := s.connect()
			if err != nil {
				return err
			}
			ws, err := ss.get(cmd, args[0])
			if err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd.OutOrStdout(), ws)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.clusterKubeconfig, "cluster-kubeconfig", "", "kubeconfig of the compute cluster the workspace runs on")
	f.StringVar(&o.clusterKubeconfigs, "cluster-kubeconfigs", os.Getenv("ATRIUM_CLUSTER_KUBECONFIGS"), "directory of cluster-<name>.kubeconfig files (default $ATRIUM_CLUSTER_KUBECONFIGS)")
	f.BoolVarP(&o.follow, "follow", "f", false, "stream new log lines until interrupted")
	f.Int64Var(&o.tail, "tail", -1, "lines of recent log to show (default: all)")
	return cmd
}

func (o *logsOptions) run(ctx context.Context, out io.Writer, ws *workspacesv1alpha1.Workspace) error {
	p := ws.Status.Placement
	if p == nil || p.Cluster == "" {
		return fmt.Errorf("workspace %s is not placed on a compute cluster, so it has no logs: %s", ws.Name, placement(ws, metav1.Now().Time))
	}
	if p.LocalNamespace == "" {
		return fmt.Errorf("workspace %s is placed on %s, but its agent has not reported where it runs yet (status.placement.localNamespace); try again shortly", ws.Name, p.Cluster)
	}
	path, err := o.kubeconfigFor(p.Cluster)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return fmt.Errorf("failed to load the kubeconfig of compute cluster %s (%s): %w", p.Cluster, path, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a client for compute cluster %s: %w", p.Cluster, err)
	}
	pod, err := findPod(ctx, cs, p.LocalNamespace, ws.Name)
	if err != nil {
		return explainCluster(p.Cluster, cfg.Host, err)
	}
	if pod == nil {
		why := ""
		if ws.IsStopped() {
			why = " (it is stopped)"
		}
		return fmt.Errorf("workspace %s has no pod on compute cluster %s in namespace %s%s", ws.Name, p.Cluster, p.LocalNamespace, why)
	}
	opts := &corev1.PodLogOptions{Container: materialize.ContainerName, Follow: o.follow}
	if o.tail >= 0 {
		opts.TailLines = &o.tail
	}
	stream, err := cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
	if err != nil {
		return logsError(pod, p.Cluster, err)
	}
	defer stream.Close()
	if _, err := io.Copy(out, stream); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("failed to read the logs of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// kubeconfigFor returns the kubeconfig file of the named compute cluster.
func (o *logsOptions) kubeconfigFor(cluster string) (string, error) {
	if o.clusterKubeconfig != "" {
		return o.clusterKubeconfig, nil
	}
	if o.clusterKubeconfigs == "" {
		return "", fmt.Errorf("workspace logs live on compute cluster %s, which your kubeconfig cannot reach: pass --cluster-kubeconfig FILE or --cluster-kubeconfigs DIR (ask your platform team for it)", cluster)
	}
	path := filepath.Join(o.clusterKubeconfigs, "cluster-"+cluster+".kubeconfig")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("no kubeconfig for compute cluster %s: %s does not exist", cluster, path)
	}
	return path, nil
}

// findPod returns the workspace's pod: a running one if there is one, else the newest.
func findPod(ctx context.Context, cs kubernetes.Interface, namespace, name string) (*corev1.Pod, error) {
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: materialize.WorkspaceLabel + "=" + name})
	if err != nil {
		return nil, err
	}
	if len(pods.Items) == 0 {
		return nil, nil
	}
	sort.SliceStable(pods.Items, func(i, j int) bool {
		a, b := &pods.Items[i], &pods.Items[j]
		if ar, br := a.Status.Phase == corev1.PodRunning, b.Status.Phase == corev1.PodRunning; ar != br {
			return ar
		}
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	})
	return &pods.Items[0], nil
}

func explainCluster(cluster, host string, err error) error {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return fmt.Errorf("the kubeconfig of compute cluster %s may not list pods there: %s", cluster, statusMessage(err))
	}
	msg := clientflags.Explain(host, err).Error()
	return fmt.Errorf("compute cluster %s: %s", cluster, strings.Replace(msg, "the hub", "the cluster", 1))
}

// logsError explains why the API server gave no logs: it proxies them from the node's kubelet.
func logsError(pod *corev1.Pod, cluster string, err error) error {
	where := fmt.Sprintf("pod %s/%s on compute cluster %s", pod.Namespace, pod.Name, cluster)
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot read the logs of %s: its node %s has no logs for it (nodes without a container runtime, such as kwok's fake nodes, keep none): %s",
			where, pod.Spec.NodeName, statusMessage(err))
	}
	return fmt.Errorf("cannot read the logs of %s: %s (the API server reads them from the kubelet of node %s, which must be reachable from it)",
		where, statusMessage(err), pod.Spec.NodeName)
}
