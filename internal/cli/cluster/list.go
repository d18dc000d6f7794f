package cluster

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kcp-dev/logicalcluster/v3"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/atrium-dev/atrium/apis/platform/v1alpha1"
	"github.com/atrium-dev/atrium/exports"
	"github.com/atrium-dev/atrium/internal/cli/clientflags"
	"github.com/atrium-dev/atrium/internal/cli/ws"
	"github.com/atrium-dev/atrium/internal/kcp"
)

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := platformv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

func newListCommand(flags *clientflags.Flags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List compute clusters: health, heartbeat age, workspaces and allocation",
		Long: `List the ComputeClusters registered in the provider workspace root:atrium, with the hub admin's
kubeconfig (any logical cluster of the hub; the command addresses root:atrium itself).

READY is the Ready condition the hub keeps from the agent's heartbeat (",SchedulingDisabled"
when the cluster is cordoned); CPU and MEMORY are allocated/allocatable as the agent reports
them; SHARDS are the kcp shards whose workspaces the cluster's agents serve.`,
		Example: "  atrium cluster list --kubeconfig .atrium/kubeconfigs/admin.kubeconfig",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "", "wide", "json", "yaml":
			default:
				return fmt.Errorf("unknown output format %q: use one of json, yaml, wide", output)
			}
			cfg, err := flags.RESTConfig()
			if err != nil {
				return err
			}
			cfg = kcp.ConfigForCluster(cfg, logicalcluster.NewPath(exports.ProviderWorkspace))
			c, err := client.New(cfg, client.Options{Scheme: scheme})
			if err != nil {
				return clientflags.Explain(cfg.Host, fmt.Errorf("failed to create a client: %w", err))
			}
			list := &platformv1alpha1.ComputeClusterList{}
			if err := c.List(cmd.Context(), list); err != nil {
				if meta.IsNoMatchError(err) {
					return fmt.Errorf("no ComputeCluster API in %s: run `atrium hub init` first", exports.ProviderWorkspace)
				}
				return clientflags.Explain(cfg.Host, err)
			}
			out := cmd.OutOrStdout()
			switch output {
			case "json", "yaml":
				return printData(out, output, list)
			}
			if len(list.Items) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No compute clusters: install the agent on one (it registers itself).")
				return nil
			}
			return writeTable(out, list.Items, output == "wide", time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json, yaml or wide (default: a table)")
	return cmd
}

func printData(w io.Writer, format string, list *platformv1alpha1.ComputeClusterList) error {
	out := &platformv1alpha1.ComputeClusterList{ListMeta: list.ListMeta}
	out.APIVersion, out.Kind = platformv1alpha1.SchemeGroupVersion.String(), "ComputeClusterList"
	for _, c := range list.Items {
		c.APIVersion, c.Kind = platformv1alpha1.SchemeGroupVersion.String(), "ComputeCluster"
		out.Items = append(out.Items, c)
	}
	var b []byte
	var err error
	if format == "json" {
		b, err = json.MarshalIndent(out, "", "    ")
		b = append(b, '\n')
	} else {
		b, err = yaml.Marshal(out)
	}
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", format, err)
	}
	_, err = w.Write(b)
	return err
}

func writeTable(w io.Writer, items []platformv1alpha1.ComputeCluster, wide bool, now time.Time) error {
	sorted := append([]platformv1alpha1.ComputeCluster(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	header := "NAME\tREADY\tREGION\tHEARTBEAT\tWORKSPACES\tCPU\tMEMORY\tSHARDS"
	if wide {
		header += "\tSTRATEGIES\tAGENT\tMESSAGE"
	}
	fmt.Fprintln(tw, header)
	for i := range sorted {
		fmt.Fprintln(tw, strings.Join(row(&sorted[i], wide, now), "\t"))
	}
	return tw.Flush()
}

// row is one cluster's line of `cluster list`.
func row(c *platformv1alpha1.ComputeCluster, wide bool, now time.Time) []string {
	r := []string{
		c.Name, ready(c), orNone(c.Region()), heartbeat(c.Status.HeartbeatTime, now),
		fmt.Sprint(c.Status.WorkspaceCount),
		allocation(c.Status, corev1.ResourceCPU), allocation(c.Status, corev1.ResourceMemory),
		orNone(shards(c.Status.Shards)),
	}
	if wide {
		strategies := strings.Join(c.Status.AccessStrategies, ",")
		if d := c.Status.DefaultAccessStrategy; d != "" {
			strategies = strings.Replace(","+strategies+",", ","+d+",", ","+d+"(default),", 1)
			strategies = strings.Trim(strategies, ",")
		}
		msg := ""
		if cond := meta.FindStatusCondition(c.Status.Conditions, string(platformv1alpha1.ConditionReady)); cond != nil {
			msg = cond.Reason
			if cond.Message != "" {
				msg += ": " + cond.Message
			}
		}
		r = append(r, orNone(strategies), orNone(c.Status.AgentVersion), orNone(msg))
	}
	return r
}

// shards names each shard by its host when the agent reports virtual-workspace URLs.
func shards(in []string) string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, ws.ShardName(s))
	}
	return strings.Join(out, ",")
}

func ready(c *platformv1alpha1.ComputeCluster) string {
	s := string(metav1.ConditionUnknown)
	if cond := meta.FindStatusCondition(c.Status.Conditions, string(platformv1alpha1.ConditionReady)); cond != nil {
		s = string(cond.Status)
	}
	if c.Spec.Unschedulable {
		s += ",SchedulingDisabled"
	}
	return s
}

func heartbeat(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "<never>"
	}
	return duration.HumanDuration(now.Sub(t.Time)) + " ago"
}

// allocation renders "allocated/allocatable" of one resource.
func allocation(s platformv1alpha1.ComputeClusterStatus, name corev1.ResourceName) string {
	q := func(l corev1.ResourceList) string {
		if v, ok := l[name]; ok {
			return v.String()
		}
		return "?"
	}
	if s.Allocatable == nil && s.Allocated == nil {
		return none
	}
	allocated := "0"
	if v, ok := s.Allocated[name]; ok {
		allocated = v.String()
	}
	return allocated + "/" + q(s.Allocatable)
}

const none = "<none>"

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
