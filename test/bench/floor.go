package bench

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workspacesv1alpha1 "github.com/atrium-dev/atrium/apis/workspaces/v1alpha1"
	"github.com/atrium-dev/atrium/hub/bootstrap"
)

const (
	floorNamespace = "bench-floor"
	floorLabel     = "bench.atrium.dev/floor"
	floorImage     = "quay.io/jupyter/base-notebook:2025-06-01"
)

func floorResources() *corev1.ResourceRequirements {
	return &corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
	}}
}

// floor runs the chain a workspace goes through with the thinnest client, N times with the
// burst's concurrency: create an object in an org and observe its watch event through the
// APIExport virtual workspace (a plain dynamic client on the endpoint slice URL), then create
// a Deployment, Service and PVC directly in a compute cluster and wait for the pod Running. The
// object is a WorkspaceExecutionProfile: served by the same export, and nothing reconciles it.
func (r *run) floor(ctx context.Context) error {
	hubClients := map[string]client.Client{}
	for _, org := range r.orgs {
		c, err := client.New(fastConfig(r.stack.Env.Hub.ClusterConfig(bootstrap.OrgPath(org))), client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("failed to create client of %s: %w", org, err)
		}
		hubClients[org] = c
	}
	localClients := map[string]client.Client{}
	for _, name := range Clusters {
		c, err := client.New(fastConfig(r.stack.Env.Cluster(name).Config), client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("failed to create client of %s: %w", name, err)
		}
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: floorNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create namespace %s on %s: %w", floorNamespace, name, err)
		}
		localClients[name] = c
	}
	kcpLat := make([]time.Duration, r.cfg.N)
	computeLat := make([]time.Duration, r.cfg.N)
	total, err := r.forEach(ctx, r.cfg.N, func(ctx context.Context, i int) (time.Duration, error) {
		org, cluster := r.orgs[i%len(r.orgs)], Clusters[i%len(Clusters)]
		name := fmt.Sprintf("%s-floor-%d", r.cfg.Prefix, i)
		labels := map[string]string{runLabel: r.cfg.Prefix, floorLabel: name}

		w := r.vwTrack.expect(name, func(u *unstructured.Unstructured) bool { return u != nil })
		t0 := time.Now()
		profile := &workspacesv1alpha1.WorkspaceExecutionProfile{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
			Spec:       workspacesv1alpha1.WorkspaceExecutionProfileSpec{ServiceAccountName: "default"},
		}
		if err := hubClients[org].Create(ctx, profile); err != nil {
			return 0, fmt.Errorf("failed to create execution profile %s/%s: %w", org, name, err)
		}
		seen, err := w.wait(ctx)
		if err != nil {
			return 0, fmt.Errorf("execution profile %s/%s not seen through the virtual workspace: %w", org, name, err)
		}
		kcpLat[i] = seen.Sub(t0)

		pw := r.podTrack[cluster].expect(name, func(u *unstructured.Unstructured) bool {
			if u == nil {
				return false
			}
			phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
			return phase == string(corev1.PodRunning)
		})
		t1 := time.Now()
		for _, obj := range floorObjects(name, labels) {
			if err := localClients[cluster].Create(ctx, obj); err != nil {
				return 0, fmt.Errorf("failed to create %T %s on %s: %w", obj, name, cluster, err)
			}
		}
		running, err := pw.wait(ctx)
		if err != nil {
			return 0, fmt.Errorf("floor pod %s on %s not Running: %w", name, cluster, err)
		}
		computeLat[i] = running.Sub(t1)
		return running.Sub(t0), nil
	})
	if err != nil {
		return err
	}
	r.res.Floor = Floor{Total: percentiles(total), KCPWatch: percentiles(kcpLat), ComputePodRunning: percentiles(computeLat)}
	return nil
}

// floorObjects are what a workspace needs on a compute cluster, without the platform: a PVC,
// a Deployment mounting it and a Service in front.
func floorObjects(name string, labels map[string]string) []client.Object {
	return []client.Object{
		&corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: floorNamespace, Labels: labels},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: floorNamespace, Labels: labels},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{floorLabel: name},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 8888, TargetPort: intstr.FromInt32(8888)}},
			},
		},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: floorNamespace, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{floorLabel: name}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						Containers: []corev1.Container{{
							Name: "ide", Image: floorImage, Resources: *floorResources(),
							Ports:        []corev1.ContainerPort{{ContainerPort: 8888}},
							VolumeMounts: []corev1.VolumeMount{{Name: "home", MountPath: "/home/jovyan"}},
						}},
						Volumes: []corev1.Volume{{Name: "home", VolumeSource: corev1.VolumeSource{
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name},
						}}},
					},
				},
			},
		},
	}
}
